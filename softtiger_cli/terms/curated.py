"""Curated tables written for softtiger (build-time input; the runtime reads the built data files).

- CONDITION_SYNONYMS: everyday outpatient wording and safe abbreviations -> ICD-10-CM code. Each code is
  the most specific one the words support and must exist in the ICD-10-CM tabular (the build fails
  otherwise). Where ICD-10-CM's alphabetic index gives a default for the bare words (e.g. "diabetes" ->
  E11.9, "coronary artery disease" -> I25.10), that default is used.
- Ambiguous abbreviations (MS, PE, RA, MI, CP, AF, DM, OA, ...) are deliberately absent: the caller adds
  them through `extra_terms` when the note's context decides the reading.
- VACCINES: CVX codes (CDC, public domain) for the vaccines that visit notes name, with the words notes
  use. Only codes we can vouch for; brand names map to the formulation the brand implies, generic wording
  ("flu shot") to the "unspecified formulation" code.
- DRUG_*: adjustments to the drug-named-entity-recognition dictionary (common-word names kept or blocked,
  a few brand names it maps to the wrong or a class concept).
"""

from __future__ import annotations

# term -> ICD-10-CM code. Keys are written as a clinician would; the build normalises them.
# Abbreviations of <= 3 letters only match when the note writes them in capitals.
CONDITION_SYNONYMS: dict[str, str] = {
    # cardiovascular
    "hypertension": "I10", "HTN": "I10", "high blood pressure": "I10", "essential hypertension": "I10",
    "elevated blood pressure": "R03.0",
    "hypotension": "I95.9", "low blood pressure": "I95.9",
    "hyperlipidemia": "E78.5", "HLD": "E78.5", "dyslipidemia": "E78.5",
    "high cholesterol": "E78.00", "hypercholesterolemia": "E78.00", "elevated cholesterol": "E78.00",
    "hypertriglyceridemia": "E78.1",
    "congestive heart failure": "I50.9", "CHF": "I50.9", "heart failure": "I50.9",
    "heart failure with reduced ejection fraction": "I50.20", "HFrEF": "I50.20",
    "systolic heart failure": "I50.20",
    "heart failure with preserved ejection fraction": "I50.30", "HFpEF": "I50.30",
    "diastolic heart failure": "I50.30",
    "coronary artery disease": "I25.10", "CAD": "I25.10",
    "atrial fibrillation": "I48.91", "afib": "I48.91", "a-fib": "I48.91", "a fib": "I48.91",
    "atrial flutter": "I48.92",
    "myocardial infarction": "I21.9", "heart attack": "I21.9",
    "angina": "I20.9",
    "peripheral artery disease": "I73.9", "peripheral arterial disease": "I73.9",
    "peripheral vascular disease": "I73.9", "PVD": "I73.9",
    "deep vein thrombosis": "I82.409", "DVT": "I82.409",
    "pulmonary embolism": "I26.99",
    "aortic stenosis": "I35.0", "mitral regurgitation": "I34.0",
    "heart murmur": "R01.1", "murmur": "R01.1",
    "palpitations": "R00.2", "bradycardia": "R00.1", "tachycardia": "R00.0",
    "supraventricular tachycardia": "I47.10", "SVT": "I47.10",
    "syncope": "R55", "fainting": "R55",
    "edema": "R60.9", "peripheral edema": "R60.0", "leg swelling": "R60.0",
    "lower extremity edema": "R60.0", "pitting edema": "R60.9",
    "cardiomyopathy": "I42.9",
    "varicose veins": "I83.90",
    "stroke": "I63.9", "transient ischemic attack": "G45.9", "TIA": "G45.9",
    # pulmonary / ENT
    "chronic obstructive pulmonary disease": "J44.9", "COPD": "J44.9", "emphysema": "J43.9",
    "asthma": "J45.909",
    "pneumonia": "J18.9",
    "bronchitis": "J40", "acute bronchitis": "J20.9",
    "obstructive sleep apnea": "G47.33", "OSA": "G47.33", "sleep apnea": "G47.30",
    "upper respiratory infection": "J06.9", "upper respiratory tract infection": "J06.9", "URI": "J06.9",
    "common cold": "J00",
    "sinusitis": "J32.9", "acute sinusitis": "J01.90",
    "allergic rhinitis": "J30.9", "hay fever": "J30.1",
    "nasal congestion": "R09.81",
    "shortness of breath": "R06.02", "SOB": "R06.02", "dyspnea": "R06.00",
    "wheezing": "R06.2", "cough": "R05.9", "chronic cough": "R05.3", "hemoptysis": "R04.2",
    "hypoxia": "R09.02",
    "COVID-19": "U07.1", "COVID": "U07.1", "COVID-19 infection": "U07.1",
    "influenza": "J11.1", "flu": "J11.1",
    "sore throat": "J02.9", "pharyngitis": "J02.9", "strep throat": "J02.0",
    "otitis media": "H66.90", "ear infection": "H66.90",
    "hearing loss": "H91.90", "tinnitus": "H93.19",
    # endocrine / metabolic
    "type 2 diabetes": "E11.9", "type 2 diabetes mellitus": "E11.9", "type II diabetes": "E11.9",
    "type II diabetes mellitus": "E11.9", "diabetes mellitus type 2": "E11.9", "diabetes type 2": "E11.9",
    "T2DM": "E11.9", "DM2": "E11.9", "non-insulin dependent diabetes": "E11.9",
    "diabetes": "E11.9", "diabetes mellitus": "E11.9",
    "type 1 diabetes": "E10.9", "type 1 diabetes mellitus": "E10.9", "diabetes mellitus type 1": "E10.9",
    "T1DM": "E10.9",
    "diabetic neuropathy": "E11.40",
    "prediabetes": "R73.03", "pre-diabetes": "R73.03",
    "hypothyroidism": "E03.9", "hyperthyroidism": "E05.90", "goiter": "E04.9", "thyroid nodule": "E04.1",
    "obesity": "E66.9", "morbid obesity": "E66.01", "overweight": "E66.3",
    "vitamin D deficiency": "E55.9", "vitamin B12 deficiency": "E53.8",
    "gout": "M10.9", "hypokalemia": "E87.6", "hyponatremia": "E87.1", "dehydration": "E86.0",
    "osteoporosis": "M81.0", "osteopenia": "M85.80",
    "anemia": "D64.9", "iron deficiency anemia": "D50.9", "thrombocytopenia": "D69.6",
    # gastrointestinal
    "gastroesophageal reflux disease": "K21.9", "gastro-esophageal reflux disease": "K21.9",
    "GERD": "K21.9", "acid reflux": "K21.9", "heartburn": "R12",
    "irritable bowel syndrome": "K58.9", "IBS": "K58.9",
    "constipation": "K59.00", "diarrhea": "R19.7", "nausea": "R11.0", "vomiting": "R11.10",
    "nausea and vomiting": "R11.2", "abdominal pain": "R10.9", "stomach pain": "R10.9",
    "gastritis": "K29.70", "peptic ulcer": "K27.9", "diverticulitis": "K57.92", "diverticulosis": "K57.90",
    "hemorrhoids": "K64.9", "fatty liver": "K76.0", "cirrhosis": "K74.60", "hepatitis C": "B19.20",
    "gallstones": "K80.20", "cholelithiasis": "K80.20", "pancreatitis": "K85.90",
    "Crohn's disease": "K50.90", "ulcerative colitis": "K51.90", "celiac disease": "K90.0",
    "dysphagia": "R13.10", "rectal bleeding": "K62.5", "hiatal hernia": "K44.9",
    "umbilical hernia": "K42.9", "inguinal hernia": "K40.90",
    # renal / genitourinary
    "chronic kidney disease": "N18.9", "CKD": "N18.9",
    "chronic kidney disease stage 3": "N18.30", "CKD stage 3": "N18.30",
    "chronic kidney disease stage 4": "N18.4", "CKD stage 4": "N18.4",
    "chronic kidney disease stage 5": "N18.5", "CKD stage 5": "N18.5",
    "end-stage renal disease": "N18.6", "ESRD": "N18.6",
    "acute kidney injury": "N17.9", "AKI": "N17.9",
    "urinary tract infection": "N39.0", "UTI": "N39.0",
    "kidney stone": "N20.0", "kidney stones": "N20.0", "nephrolithiasis": "N20.0",
    "benign prostatic hyperplasia": "N40.0", "BPH": "N40.0", "enlarged prostate": "N40.0",
    "urinary incontinence": "R32", "hematuria": "R31.9", "dysuria": "R30.0", "urinary frequency": "R35.0",
    "nocturia": "R35.1", "erectile dysfunction": "N52.9", "overactive bladder": "N32.81",
    # musculoskeletal
    "osteoarthritis": "M19.90", "arthritis": "M19.90",
    "osteoarthritis of knee": "M17.9", "knee osteoarthritis": "M17.9",
    "osteoarthritis of hip": "M16.9", "hip osteoarthritis": "M16.9",
    "rheumatoid arthritis": "M06.9",
    "low back pain": "M54.50", "lower back pain": "M54.50", "lumbago": "M54.50",
    "back pain": "M54.9", "neck pain": "M54.2", "thoracic back pain": "M54.6",
    "knee pain": "M25.569", "right knee pain": "M25.561", "left knee pain": "M25.562",
    "shoulder pain": "M25.519", "right shoulder pain": "M25.511", "left shoulder pain": "M25.512",
    "hip pain": "M25.559", "right hip pain": "M25.551", "left hip pain": "M25.552",
    "joint pain": "M25.50", "arthralgia": "M25.50",
    "sciatica": "M54.30", "fibromyalgia": "M79.7", "muscle spasm": "M62.838", "myalgia": "M79.10",
    "muscle pain": "M79.10",
    "carpal tunnel syndrome": "G56.00", "plantar fasciitis": "M72.2",
    "rotator cuff tear": "M75.100",
    "lumbar spinal stenosis": "M48.061",
    # neurological
    "migraine": "G43.909", "migraines": "G43.909", "headache": "R51.9",
    "seizure": "R56.9", "seizures": "R56.9", "epilepsy": "G40.909",
    "peripheral neuropathy": "G62.9", "neuropathy": "G62.9",
    "dementia": "F03.90", "Alzheimer's disease": "G30.9", "Parkinson's disease": "G20",
    "multiple sclerosis": "G35.D",
    "dizziness": "R42", "lightheadedness": "R42", "light-headedness": "R42", "vertigo": "R42",
    "insomnia": "G47.00", "restless legs syndrome": "G25.81", "tremor": "R25.1",
    "numbness": "R20.0", "tingling": "R20.2", "paresthesia": "R20.2",
    "Bell's palsy": "G51.0", "memory loss": "R41.3",
    # psychiatric
    "depression": "F32.A", "major depressive disorder": "F32.9", "MDD": "F32.9",
    "anxiety": "F41.9", "generalized anxiety disorder": "F41.1", "GAD": "F41.1",
    "panic disorder": "F41.0", "panic attacks": "F41.0",
    "bipolar disorder": "F31.9", "post-traumatic stress disorder": "F43.10", "PTSD": "F43.10",
    "attention deficit hyperactivity disorder": "F90.9", "ADHD": "F90.9",
    "schizophrenia": "F20.9", "nicotine dependence": "F17.200", "tobacco use disorder": "F17.200",
    "suicidal ideation": "R45.851",
    # skin / infections
    "eczema": "L30.9", "psoriasis": "L40.9", "acne": "L70.0", "cellulitis": "L03.90", "rash": "R21",
    "shingles": "B02.9", "herpes zoster": "B02.9", "hives": "L50.9", "urticaria": "L50.9",
    "conjunctivitis": "H10.9", "pink eye": "H10.9", "cataract": "H26.9", "glaucoma": "H40.9",
    "HIV": "B20", "sepsis": "A41.9",
    # oncology: the words name the organ, not the site within it or the side
    "cancer": "C80.1", "breast cancer": "C50.9", "lung cancer": "C34.90", "prostate cancer": "C61",
    "colon cancer": "C18.9", "ovarian cancer": "C56.9", "pancreatic cancer": "C25.9", "bladder cancer": "C67.9",
    "kidney cancer": "C64.9", "thyroid cancer": "C73", "melanoma": "C43.9", "leukemia": "C95.90",
    "lymphoma": "C85.90", "cervical cancer": "C53.9", "endometrial cancer": "C54.1", "uterine cancer": "C55",
    "stomach cancer": "C16.9", "gastric cancer": "C16.9", "liver cancer": "C22.9", "skin cancer": "C44.90",
    "brain cancer": "C71.9", "esophageal cancer": "C15.9", "multiple myeloma": "C90.00",
    # general symptoms and findings
    "chest pain": "R07.9", "fatigue": "R53.83", "tiredness": "R53.83", "fever": "R50.9",
    "chills": "R68.83", "weight loss": "R63.4", "weight gain": "R63.5", "loss of appetite": "R63.0",
    "night sweats": "R61", "malaise": "R53.81", "weakness": "R53.1", "generalized weakness": "R53.1",
}

# Abbreviations that ICD-10-CM titles/inclusion terms use but that are ambiguous in notes: never searched.
AMBIGUOUS_SHORT: frozenset[str] = frozenset({
    "ms", "pe", "ra", "mi", "cp", "af", "dm", "oa", "ar", "pt", "ca", "ed", "ad", "as", "ac", "ha", "hf",
    "aids", "cva", "sa", "cf", "lbp", "uc", "ipv",
})

# Words that ICD-10-CM uses as a whole title or inclusion term but that notes use in everyday or generic
# senses: never searched as a condition mention (coding the exact phrase is still allowed). Clinical
# words listed in CONDITION_SYNONYMS are searched from there.
EVERYDAY_WORDS: frozenset[str] = frozenset({
    "fall", "burn", "contact", "exposure", "complication", "problem", "disease", "disorder", "syndrome",
    "injury", "abnormal", "abnormality", "crush", "cut", "bite", "sting", "mass", "lump", "discharge",
    "pressure", "strain", "stress", "tension", "failure", "block", "deformity", "growth", "lesion",
    "anomaly", "defect", "delivery", "labor", "dependence", "use", "abuse", "history", "observation",
    "screening", "examination", "counseling", "encounter", "care", "status", "absence", "presence", "loss",
    "death", "arrest", "obstruction", "retention", "insufficiency", "infection", "inflammation",
    "reaction", "allergy", "effect", "rupture", "tear", "wound", "pain", "ache", "swelling", "bleeding",
    "cold", "heat", "worry", "nervousness", "grief", "bereavement", "loneliness", "overwork",
    "unemployment", "poverty", "homelessness", "imprisonment", "divorce", "aging", "old age", "twins",
    "newborn", "carrier", "other", "unspecified", "type", "stage", "grade", "site", "region", "left",
    "right", "acute", "chronic", "recurrent", "primary", "secondary", "sequela", "late effect", "initial",
    "subsequent", "routine", "aftercare", "rehabilitation", "noise", "smoke", "smoking", "alcohol", "drug",
    "medication", "vaccination", "immunization", "transplant", "implant", "graft", "device", "catheter",
    "tube", "fit", "attack", "collapse", "shock", "crying", "shaking",
})

# Vaccines: (CVX code, short description) and the words notes use for them.
CVX_CODES: dict[str, str] = {
    "03": "MMR", "08": "Hep B, adolescent or pediatric", "10": "IPV", "17": "Hib, unspecified formulation",
    "19": "BCG", "20": "DTaP", "21": "varicella", "25": "typhoid, oral",
    "33": "pneumococcal polysaccharide PPV23", "43": "Hep B, adult", "45": "Hep B, unspecified formulation",
    "52": "Hep A, adult", "62": "HPV, quadrivalent", "83": "Hep A, ped/adol, 2 dose",
    "85": "Hep A, unspecified formulation", "88": "influenza, unspecified formulation",
    "89": "polio, unspecified formulation", "90": "rabies, unspecified formulation",
    "91": "typhoid, unspecified formulation", "94": "MMRV", "101": "typhoid, ViCPs", "104": "Hep A-Hep B",
    "107": "DTaP, unspecified formulation", "108": "meningococcal ACWY, unspecified formulation",
    "109": "pneumococcal, unspecified formulation", "113": "Td (adult) preservative free",
    "114": "meningococcal MCV4P", "115": "Tdap", "116": "rotavirus, pentavalent", "119": "rotavirus, monovalent",
    "121": "zoster live", "122": "rotavirus, unspecified formulation", "133": "Pneumococcal conjugate PCV 13",
    "136": "meningococcal MCV4O", "137": "HPV, unspecified formulation",
    "139": "Td(adult) unspecified formulation", "147": "meningococcal MCV4, unspecified formulation",
    "162": "meningococcal B, recombinant", "163": "meningococcal B, OMV",
    "164": "meningococcal B, unspecified", "165": "HPV9", "187": "zoster recombinant",
    "188": "zoster, unspecified formulation", "189": "HepB-CpG",
    "213": "SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED FORMULATION",
    "215": "Pneumococcal conjugate PCV15, polysaccharide CRM197 conjugate, adjuvant, PF",
    "216": "Pneumococcal conjugate PCV20, polysaccharide CRM197 conjugate, adjuvant, PF",
}

VACCINE_TERMS: dict[str, str | None] = {
    # influenza: the formulation is rarely written, so the unspecified code
    "flu shot": "88", "flu vaccine": "88", "flu vaccination": "88", "influenza vaccine": "88",
    "influenza vaccination": "88", "flu immunization": "88", "influenza immunization": "88",
    "Fluzone": "88", "Flublok": "88", "Fluarix": "88", "Flulaval": "88", "Flucelvax": "88", "Fluad": "88",
    "Afluria": "88", "FluMist": "88",
    # tetanus-containing
    "Tdap": "115", "Tdap vaccine": "115", "Tdap booster": "115", "Boostrix": "115", "Adacel": "115",
    "Td vaccine": "139", "Td booster": "139", "Tenivac": "113",
    "tetanus shot": None, "tetanus booster": None, "tetanus vaccine": None,
    "DTaP": "107", "DTaP vaccine": "107",
    # zoster
    "Shingrix": "187", "recombinant zoster vaccine": "187", "Zostavax": "121",
    "shingles vaccine": "188", "shingles shot": "188", "zoster vaccine": "188", "shingles vaccination": "188",
    # pneumococcal
    "Pneumovax": "33", "Pneumovax 23": "33", "PPSV23": "33", "PPV23": "33",
    "Prevnar 13": "133", "PCV13": "133", "Prevnar 20": "216", "PCV20": "216", "Vaxneuvance": "215",
    "PCV15": "215", "Prevnar": "109", "pneumococcal vaccine": "109", "pneumonia vaccine": "109",
    "pneumonia shot": "109", "pneumococcal vaccination": "109",
    # COVID-19: products change every season, so the unspecified code
    "COVID-19 vaccine": "213", "COVID vaccine": "213", "COVID-19 vaccination": "213",
    "COVID vaccination": "213", "COVID shot": "213", "COVID booster": "213", "COVID-19 booster": "213",
    "coronavirus vaccine": "213", "SARS-CoV-2 vaccine": "213",
    # hepatitis
    "hepatitis B vaccine": "45", "hep B vaccine": "45", "hepatitis B vaccination": "45",
    "Engerix-B": "45", "Recombivax": "45", "Heplisav": "189", "Heplisav-B": "189",
    "hepatitis A vaccine": "85", "hep A vaccine": "85", "hepatitis A vaccination": "85", "Havrix": "85",
    "Vaqta": "85", "Twinrix": "104",
    # childhood and others
    "MMR": "03", "MMR vaccine": "03", "measles vaccine": None, "MMRV": "94", "ProQuad": "94",
    "varicella vaccine": "21", "chickenpox vaccine": "21", "Varivax": "21",
    "HPV vaccine": "137", "HPV vaccination": "137", "Gardasil": "137", "Gardasil 9": "165",
    "polio vaccine": "89", "IPV vaccine": "10",
    "Hib vaccine": "17",
    "rotavirus vaccine": "122", "RotaTeq": "116", "Rotarix": "119",
    "meningococcal vaccine": None, "meningitis vaccine": None, "MenACWY": "108",
    "Menactra": "114", "Menveo": "136", "MenB": "164", "Bexsero": "163", "Trumenba": "162",
    "typhoid vaccine": "91", "Typhim Vi": "101", "Vivotif": "25",
    "rabies vaccine": "90", "BCG vaccine": "19",
}

# drug-named-entity-recognition: single-word names that are also common English words (top of an
# English frequency list) are dropped from the drug lexicon unless listed here.
DRUG_COMMON_WORD_ALLOW: frozenset[str] = frozenset({
    "accutane", "acetaminophen", "adderall", "advil", "allegra", "ambien", "amphetamine", "aspirin",
    "atropine", "benadryl", "botox", "cialis", "codeine", "cortisone", "diazepam", "epinephrine",
    "estrogen", "fentanyl", "folate", "heparin", "ibuprofen", "insulin", "ketamine", "lidocaine", "lithium",
    "melatonin", "metformin", "methadone", "methotrexate", "morphine", "naloxone", "nitroglycerin",
    "norepinephrine", "oxycodone", "oxycontin", "paracetamol", "penicillin", "prednisone", "propofol",
    "prozac", "quinine", "ritalin", "tamoxifen", "tetracycline", "tylenol", "valium", "viagra", "warfarin",
    "xanax", "zoloft", "biotin", "nicotine", "caffeine", "zinc", "magnesium", "potassium", "calcium",
    "iron", "niacin", "thiamine", "vitamin", "melatonin", "testosterone", "progesterone", "oxytocin",
    "glucagon", "hydrocortisone", "claritin", "zyrtec", "motrin", "aleve", "tums", "imodium", "sudafed",
    "mucinex", "robitussin", "excedrin", "midol", "nexium", "prilosec", "pepcid", "zantac", "flonase",
    "lasix", "lipitor", "crestor", "zocor", "norvasc", "plavix", "coumadin", "eliquis", "xarelto",
    "synthroid", "lantus", "humalog", "ozempic", "wegovy", "jardiance", "farxiga", "trulicity", "januvia",
    "humira", "enbrel", "keytruda", "lyrica", "neurontin", "xanax", "klonopin", "ativan", "lexapro",
    "celexa", "paxil", "wellbutrin", "effexor", "cymbalta", "seroquel", "abilify", "risperdal", "zyprexa",
    "haldol", "suboxone", "narcan", "percocet", "vicodin", "norco", "dilaudid", "tramadol", "ultram",
    "flexeril", "valtrex", "tamiflu", "keflex", "augmentin", "cipro", "levaquin", "bactrim", "zithromax",
    "diflucan", "flagyl", "albuterol", "ventolin", "proventil", "advair", "symbicort", "spiriva",
    "singulair", "prednisolone", "medrol", "depo", "estradiol", "premarin", "provera", "clomid",
    "nuvaring", "mirena", "plan b", "fosamax", "boniva", "prolia", "aricept", "namenda", "sinemet",
    "requip", "topamax", "depakote", "lamictal", "keppra", "dilantin", "tegretol", "zofran", "phenergan",
    "reglan", "miralax", "colace", "senna", "dulcolax", "metamucil", "benzonatate", "tessalon",
})

# Variants from the dictionary that are people's names, places, lab reagents or ordinary words in notes
# (checked on an English word list and by reading the dictionary), never searched.
DRUG_BLOCK: frozenset[str] = frozenset({
    "kendrick", "palin", "hana", "fargo", "angelica", "tris", "caps", "sits", "camila", "generics",
    "modus", "sone", "theon", "tobi", "aman", "dona", "indio", "armin", "corwin", "ivor", "cera", "saha",
    "daca", "silverado", "tetris", "pulsar", "colgate", "vitae", "alli", "armour", "diamonds", "buffers",
    "indicators", "reagents", "fertilizers", "herbicides", "insecticides", "carcinogens", "anions",
    "cations", "kinases", "snares", "cyclin", "atpase", "mops", "evra", "glyphosate", "sarin", "aldrin",
    "chloroform", "cocaine", "heroin", "marijuana", "ecstasy", "methamphetamine", "opium", "psilocybin",
    "mdma", "cortisol", "dopamine", "serotonin", "histamine", "glutamate", "leptin", "tryptophan",
    "aspartame", "endorphins", "cdna", "mrna", "mtdna", "trna", "mirna", "nmda", "gaba", "sugarcane",
    "watercress", "oregano", "cloves", "hops", "yeasts", "wormwood", "myrrh", "cashews", "chickpea",
    "horseradish", "oats", "pecans", "licorice", "liquorice", "peppermint", "chamomile", "ginseng",
    "camphor", "belladonna", "aloe", "sulfur", "sulfate", "bicarbonate", "citrate", "phosphates",
    "nitrates", "disulfide", "bismuth", "tannins", "sunscreen", "water", "oxygen", "air", "salt", "sugar",
    "alcohol", "ethanol", "glucose", "sodium", "chloride", "saline", "protein", "fiber", "fat", "oil",
    "plan b", "depo", "prevention", "relief",
    # names whose ingredient the words do not settle ("vitamin D" is D2 or D3; the source says D2)
    "vitamin d", "control", "balance", "focus",
    "restore", "advance", "simply", "natural", "clear", "care", "plus", "max", "extra", "active",
    "total", "ultra", "super", "complete", "daily", "one", "nature", "pure", "fresh",
    # laboratory analytes and body substances: in notes they are results, not medications
    "hemoglobin", "hemoglobins", "uric acid", "creatinine", "albumin", "bilirubin", "urea", "cholesterol",
    "triglyceride", "triglycerides", "ferritin", "troponin", "lactate", "lactic acid", "ammonia",
    "bicarbonates", "hemoglobin a", "immunoglobulin", "antibodies", "antibody", "enzyme", "enzymes",
    "hormone", "hormones", "antigen", "antigens", "collagen", "keratin", "bile", "mucus",
    "thyroid stimulating hormone", "amylase", "lipase",
})

# Brand or common names that the dictionary maps to a class concept or an unexpected ingredient,
# corrected to the ingredient concept the dictionary also has (name -> canonical key in the dictionary).
DRUG_OVERRIDES: dict[str, str] = {
    "synthroid": "levothyroxine", "levoxyl": "levothyroxine", "unithroid": "levothyroxine",
    "euthyrox": "levothyroxine", "levothyroxine sodium": "levothyroxine",
    "tylenol": "acetaminophen", "lasix": "furosemide", "keflex": "cephalexin", "imdur": "isosorbide mononitrate",
    "z-pak": "azithromycin", "zpak": "azithromycin", "hctz": "hydrochlorothiazide", "augmentin": "amoxicillin and clavulanic acid",
}
