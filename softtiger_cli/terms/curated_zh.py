"""Curated Chinese tables for the Chinese lexicon (build time; written for softtiger, not copied).

- ZH_CONDITION_CODES: everyday Chinese diagnosis names -> ICD-10-CM (the code list the English lexicon
  ships, so one validator knows every code). A code is given only for an exact name; everything else found
  by the Chinese dictionaries stays uncoded.
- ZH_CONDITION_TERMS: diagnosis and symptom words Chinese notes write that the dictionaries lack.
- ZH_DRUGS: common generic names -> the English ingredient name (the concept English notes share).
- ZH_VACCINES: the vaccine names Chinese notes write ("流感疫苗", "卡介苗", "百白破疫苗") -> CVX code in the
  CVX list softtiger ships (curated.CVX_CODES), or "" where no code of that list fits the name as written.
- ZH_FORMS: dosage forms a product name ends with ("片", "粉吸入剂"), longest first: a product without its form
  is the name notes write, and a drug named without its form takes a form written right after it ("泼尼松片").
- ZH_QUALIFIERS: words before a symptom that say when or how it comes ("活动后气促", "反复咳嗽"): the qualified
  symptom is the same problem as the symptom ("气促"), one concept, its own words kept as written.
- ZH_BLOCK: dictionary entries that are everyday words, body parts or test names in running Chinese text.
"""

from __future__ import annotations

ZH_CONDITION_CODES: dict[str, str] = {
    "高血压": "I10", "原发性高血压": "I10", "高血压病": "I10",
    "2型糖尿病": "E11.9", "Ⅱ型糖尿病": "E11.9", "1型糖尿病": "E10.9", "糖尿病": "E11.9",
    "冠心病": "I25.10", "冠状动脉粥样硬化性心脏病": "I25.10",
    "慢性阻塞性肺疾病": "J44.9", "慢阻肺": "J44.9",
    "心房颤动": "I48.91", "房颤": "I48.91",
    "心力衰竭": "I50.9", "心衰": "I50.9",
    "脑梗死": "I63.9", "急性心肌梗死": "I21.9", "心肌梗死": "I21.9",
    "高脂血症": "E78.5", "血脂异常": "E78.5", "高胆固醇血症": "E78.00",
    "痛风": "M10.9", "支气管哮喘": "J45.909", "哮喘": "J45.909",
    "慢性乙型病毒性肝炎": "B18.1", "慢性乙型肝炎": "B18.1",
    "甲状腺功能减退症": "E03.9", "甲状腺功能亢进症": "E05.90",
    "骨质疏松症": "M81.0", "骨质疏松": "M81.0", "贫血": "D64.9", "缺铁性贫血": "D50.9",
    "肺炎": "J18.9", "社区获得性肺炎": "J18.9", "急性阑尾炎": "K35.80",
    "胆囊结石": "K80.20", "慢性肾脏病": "N18.9", "慢性肾功能不全": "N18.9",
    "胃食管反流病": "K21.9", "抑郁症": "F32.A", "焦虑症": "F41.1", "偏头痛": "G43.909",
    "癫痫": "G40.909", "帕金森病": "G20.A1", "类风湿关节炎": "M06.9", "尿路感染": "N39.0",
    "急性胰腺炎": "K85.90", "肝硬化": "K74.60", "低钾血症": "E87.6", "高钾血症": "E87.5",
    "肥胖症": "E66.9", "睡眠呼吸暂停": "G47.30", "上呼吸道感染": "J06.9", "急性上呼吸道感染": "J06.9",
    "急性支气管炎": "J20.9", "支气管肺炎": "J18.0", "肺栓塞": "I26.99", "深静脉血栓形成": "I82.409",
}

ZH_CONDITION_TERMS: tuple[str, ...] = (
    "高血压", "高血压病", "糖尿病", "2型糖尿病", "冠心病", "慢阻肺", "房颤", "心衰", "脑梗", "腔隙性脑梗死",
    "慢性阻塞性肺疾病急性加重", "慢阻肺急性加重", "不稳定型心绞痛", "稳定型心绞痛", "心绞痛",
    "急性ST段抬高型心肌梗死", "急性非ST段抬高型心肌梗死", "脂肪肝", "高尿酸血症", "甲状腺结节", "肺结节",
    "胸痛", "胸闷", "气促", "气短", "心悸", "头晕", "头痛", "乏力", "发热", "咳嗽", "咳痰", "咯血", "腹痛",
    "腹泻", "腹胀", "恶心", "呕吐", "黑便", "呕血", "便血", "血尿", "尿频", "尿急", "尿痛", "水肿", "双下肢水肿",
    "呼吸困难", "端坐呼吸", "夜间阵发性呼吸困难", "多饮", "多尿", "多食", "体重下降", "消瘦", "盗汗", "寒战",
    "大汗", "晕厥", "抽搐", "意识障碍", "肢体无力", "言语不清", "口角歪斜", "视物模糊", "皮疹", "瘙痒",
    "关节痛", "腰痛", "背痛", "咽痛", "流涕", "鼻塞", "喘息", "纳差", "食欲减退", "失眠", "反酸", "烧心",
    "湿啰音", "干啰音", "哮鸣音", "压痛", "反跳痛", "肌紧张", "杂音", "黄疸",
)

ZH_DRUGS: dict[str, str] = {
    "氨氯地平": "amlodipine", "苯磺酸氨氯地平": "amlodipine", "硝苯地平": "nifedipine",
    "二甲双胍": "metformin", "盐酸二甲双胍": "metformin", "格列美脲": "glimepiride", "格列齐特": "gliclazide",
    "阿卡波糖": "acarbose", "达格列净": "dapagliflozin", "恩格列净": "empagliflozin", "西格列汀": "sitagliptin",
    "胰岛素": "insulin", "甘精胰岛素": "insulin glargine", "门冬胰岛素": "insulin aspart",
    "地特胰岛素": "insulin detemir", "赖脯胰岛素": "insulin lispro",
    "阿司匹林": "aspirin", "阿司匹林肠溶片": "aspirin", "氯吡格雷": "clopidogrel", "替格瑞洛": "ticagrelor",
    "阿托伐他汀": "atorvastatin", "瑞舒伐他汀": "rosuvastatin", "辛伐他汀": "simvastatin",
    "美托洛尔": "metoprolol", "比索洛尔": "bisoprolol", "卡维地洛": "carvedilol",
    "缬沙坦": "valsartan", "厄贝沙坦": "irbesartan", "氯沙坦": "losartan", "替米沙坦": "telmisartan",
    "依那普利": "enalapril", "贝那普利": "benazepril", "培哚普利": "perindopril", "沙库巴曲缬沙坦": "sacubitril",
    "呋塞米": "furosemide", "托拉塞米": "torsemide", "螺内酯": "spironolactone", "氢氯噻嗪": "hydrochlorothiazide",
    "华法林": "warfarin", "利伐沙班": "rivaroxaban", "达比加群": "dabigatran", "阿哌沙班": "apixaban",
    "肝素": "heparin", "低分子肝素": "enoxaparin", "依诺肝素": "enoxaparin",
    "硝酸甘油": "nitroglycerin", "单硝酸异山梨酯": "isosorbide mononitrate", "地高辛": "digoxin",
    "胺碘酮": "amiodarone", "奥美拉唑": "omeprazole", "泮托拉唑": "pantoprazole", "雷贝拉唑": "rabeprazole",
    "艾司奥美拉唑": "esomeprazole", "兰索拉唑": "lansoprazole",
    "头孢曲松": "ceftriaxone", "头孢呋辛": "cefuroxime", "头孢他啶": "ceftazidime", "头孢哌酮舒巴坦": "cefoperazone",
    "阿莫西林": "amoxicillin", "阿莫西林克拉维酸钾": "amoxicillin clavulanate", "青霉素": "penicillin",
    "左氧氟沙星": "levofloxacin", "莫西沙星": "moxifloxacin", "阿奇霉素": "azithromycin", "甲硝唑": "metronidazole",
    "哌拉西林他唑巴坦": "piperacillin tazobactam", "美罗培南": "meropenem", "万古霉素": "vancomycin",
    "奥司他韦": "oseltamivir", "阿昔洛韦": "acyclovir", "恩替卡韦": "entecavir", "替诺福韦": "tenofovir",
    "布洛芬": "ibuprofen", "对乙酰氨基酚": "acetaminophen", "吗啡": "morphine", "曲马多": "tramadol",
    "泼尼松": "prednisone", "甲泼尼龙": "methylprednisolone", "地塞米松": "dexamethasone", "氢化可的松": "hydrocortisone",
    "布地奈德": "budesonide", "沙丁胺醇": "albuterol", "异丙托溴铵": "ipratropium", "噻托溴铵": "tiotropium",
    "沙美特罗替卡松": "salmeterol fluticasone", "布地奈德福莫特罗": "budesonide formoterol",
    "布地格福": "budesonide glycopyrronium formoterol", "氟替美维": "fluticasone umeclidinium vilanterol",
    "茚达特罗格隆溴铵": "indacaterol glycopyrronium", "乌美溴铵维兰特罗": "umeclidinium vilanterol", "孟鲁司特": "montelukast", "氨溴索": "ambroxol", "茶碱": "theophylline",
    "左甲状腺素": "levothyroxine", "左甲状腺素钠": "levothyroxine", "甲巯咪唑": "methimazole",
    "别嘌醇": "allopurinol", "非布司他": "febuxostat", "秋水仙碱": "colchicine",
    "碳酸钙": "calcium carbonate", "骨化三醇": "calcitriol", "阿仑膦酸钠": "alendronate",
    "氯化钾": "potassium chloride", "叶酸": "folic acid", "维生素B12": "vitamin b12", "蔗糖铁": "iron sucrose",
    "舍曲林": "sertraline", "艾司西酞普兰": "escitalopram", "阿普唑仑": "alprazolam", "艾司唑仑": "estazolam",
    "左乙拉西坦": "levetiracetam", "丙戊酸钠": "valproate", "卡马西平": "carbamazepine",
    "甘露醇": "mannitol", "多巴胺": "dopamine", "去甲肾上腺素": "norepinephrine", "肾上腺素": "epinephrine",
    "硫酸镁": "magnesium sulfate", "葡萄糖酸钙": "calcium gluconate", "乳果糖": "lactulose",
    "蒙脱石散": "diosmectite", "多潘立酮": "domperidone", "莫沙必利": "mosapride", "甲氧氯普胺": "metoclopramide",
    "奥希替尼": "osimertinib", "卡培他滨": "capecitabine", "奥沙利铂": "oxaliplatin", "顺铂": "cisplatin",
    "紫杉醇": "paclitaxel", "替吉奥": "tegafur", "伊立替康": "irinotecan", "氟尿嘧啶": "fluorouracil",
    "速效救心丸": "", "复方丹参滴丸": "", "连花清瘟胶囊": "",
}

ZH_VACCINES: dict[str, str] = {
    "流感疫苗": "88", "流行性感冒疫苗": "88", "流感病毒疫苗": "88", "流感病毒裂解疫苗": "88",
    "肺炎疫苗": "109", "肺炎球菌疫苗": "109", "肺炎链球菌疫苗": "109",
    "23价肺炎球菌疫苗": "33", "23价肺炎球菌多糖疫苗": "33", "23价肺炎疫苗": "33", "肺炎球菌多糖疫苗": "33",
    "13价肺炎球菌结合疫苗": "133", "13价肺炎疫苗": "133", "13价肺炎球菌疫苗": "133",
    "HPV疫苗": "137", "人乳头瘤病毒疫苗": "137", "宫颈癌疫苗": "137", "九价HPV疫苗": "165", "9价HPV疫苗": "165",
    "四价HPV疫苗": "62", "4价HPV疫苗": "62",
    "乙肝疫苗": "45", "乙型肝炎疫苗": "45", "重组乙型肝炎疫苗": "45",
    "甲肝疫苗": "85", "甲型肝炎疫苗": "85",
    "卡介苗": "19",
    "脊髓灰质炎疫苗": "89", "脊灰疫苗": "89", "脊灰灭活疫苗": "10", "脊髓灰质炎灭活疫苗": "10",
    "百白破疫苗": "107", "百白破": "107", "吸附百白破疫苗": "107", "无细胞百白破疫苗": "107",
    "麻腮风疫苗": "03", "麻腮风": "03", "麻疹腮腺炎风疹联合疫苗": "03",
    "水痘疫苗": "21", "水痘减毒活疫苗": "21",
    "带状疱疹疫苗": "188", "重组带状疱疹疫苗": "187",
    "新冠疫苗": "213", "新冠病毒疫苗": "213", "新型冠状病毒疫苗": "213", "新型冠状病毒灭活疫苗": "213",
    "狂犬疫苗": "90", "狂犬病疫苗": "90",
    "伤寒疫苗": "91", "Hib疫苗": "17", "b型流感嗜血杆菌疫苗": "17", "轮状病毒疫苗": "122",
    # no code of the shipped list names these as written (tetanus toxoid, Japanese encephalitis, the
    # meningococcal polysaccharide vaccines China gives, measles alone): named, not coded
    "破伤风疫苗": "", "吸附破伤风疫苗": "", "破伤风类毒素": "", "乙脑疫苗": "", "乙型脑炎疫苗": "",
    "流脑疫苗": "", "麻疹疫苗": "",
}

ZH_FORMS: tuple[str, ...] = tuple(sorted((
    "氯化钠注射液", "葡萄糖注射液", "注射液", "缓释胶囊", "缓释片", "控释片", "肠溶胶囊", "肠溶片", "分散片",
    "咀嚼片", "泡腾片", "口腔崩解片", "薄膜衣片", "含片", "软胶囊", "胶囊", "胶丸", "片", "干混悬剂", "混悬液",
    "口服溶液", "吸入粉雾剂", "粉吸入剂", "吸入气雾剂", "吸入用混悬液", "吸入溶液", "吸入剂", "气雾剂", "喷雾剂",
    "滴眼液", "乳膏", "软膏", "凝胶", "贴片", "栓", "粉针剂", "颗粒", "口服液", "糖浆", "滴丸",
), key=len, reverse=True))

ZH_QUALIFIERS: tuple[str, ...] = ("活动后", "劳累后", "运动后", "反复", "间断", "间断性", "持续", "持续性", "轻度", "明显")

ZH_BLOCK: frozenset[str] = frozenset({
    # everyday words, people and body parts listed as diseases or symptoms
    "感染", "肿瘤", "避孕", "磨损", "肿胀", "测试", "医师", "过劳", "炎症", "结节", "溃疡", "囊肿", "过敏", "成人",
    "儿童", "冻干", "速溶", "肌注", "粉剂", "酊剂", "局方", "胶囊型", "成膜型", "舌苔", "毛发", "体位", "智商",
    "白发", "发黄", "呆滞", "假笑", "怪笑", "自恋", "敌视", "屏气", "触电", "难产", "流产", "绝经", "停经",
    "亚健康", "脉数", "实火", "虚火", "肝火", "积食", "胀感", "剧痛", "剧痒", "无力", "测试", "手淫", "嗜酒",
    "血压", "血糖", "脉搏", "视力", "眼压", "尿量", "皮疹检查", "鼓膜", "中耳", "乳突", "鼻中隔", "鼻前庭",
    "正常", "阴性", "阳性", "疾病", "病史", "症状", "体征", "异常", "损伤", "出血", "疼痛", "发作",
    # organs that name a drug only with its form ("甲状腺片"): without the form they are the organ
    "甲状腺", "胸腺", "胰腺", "垂体", "脑垂体", "胎盘", "骨髓",
    # what a treatment does, and the enzymes notes report as results ("血淀粉酶 1200U/L"): no drug
    "抗病毒", "抗感染", "抗炎", "抗凝", "抗血小板", "降压", "降糖", "降脂", "调脂", "止痛", "镇痛", "护胃", "补液",
    "淀粉酶", "脂肪酶",
})
