"""The page's one stylesheet and one small script, inlined so the page is a single offline file.

Both are allowed by the page's Content-Security-Policy through their SHA-256 hashes, computed at render
time over exactly these strings, so nothing else can run or style the page. The script only adds the
popup and focus niceties: without it the highlights, the legend, the panel and its anchor links work.
"""

from __future__ import annotations

# kind -> (background, border); pastel fills keep dark text at WCAG AA contrast, borders carry the hue.
PALETTE: dict[str, tuple[str, str]] = {
    "problem": ("#fde2e1", "#c0392b"),
    "past-problem": ("#efe6ee", "#8e5c86"),
    "medication": ("#dbeafe", "#1d4ed8"),
    "allergy": ("#ffe6c7", "#c2410c"),
    "procedure": ("#d3f2ed", "#0f766e"),
    "immunization": ("#dcf3d6", "#2f7d1f"),
    "vital": ("#ebe2fb", "#6d28d9"),
    "result": ("#d8eff9", "#0369a1"),
    "family": ("#fbf0bf", "#9a6a00"),
    "plan": ("#fbe0ef", "#be185d"),
    "encounter": ("#e4e8ef", "#475569"),
    "impression": ("#eaf0d2", "#5f6b10"),
    "other": ("#ececec", "#6b7280"),
}

_KIND_CSS = "".join(f".k-{k}{{--bg:{bg};--b:{b}}}" for k, (bg, b) in PALETTE.items())

CSS = """
:root{color-scheme:light;--ink:#1f2328;--muted:#59636e;--line:#dfe3e8;--card:#fff;--page:#f4f6f8}
*{box-sizing:border-box}
body{margin:0;background:var(--page);color:var(--ink);
 font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,"Noto Sans CJK SC",
 "Source Han Sans SC","PingFang SC","Hiragino Sans GB","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif}
header{background:var(--card);border-bottom:1px solid var(--line);padding:14px 28px}
header .eyebrow{margin:0;font-size:11.5px;text-transform:uppercase;letter-spacing:.08em;color:#0b57a4;font-weight:650}
header h1{font-size:19px;margin:0 0 2px;font-weight:650;letter-spacing:-.01em}
header .sub{color:var(--muted);font-size:13.5px;margin:0}
header .sub b{color:var(--ink);font-weight:600}
main{display:grid;grid-template-columns:minmax(0,1fr) minmax(300px,400px);gap:22px;padding:18px 28px;
 max-width:1480px;margin:0 auto;align-items:start}
.box{background:var(--card);border:1px solid var(--line);border-radius:10px}
.notebox{padding:14px 24px 22px}
h2{font-size:12.5px;text-transform:uppercase;letter-spacing:.07em;color:var(--muted);margin:6px 0 10px;font-weight:650}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;margin:0 0 14px;padding:0 0 12px;border-bottom:1px solid var(--line);
 font-size:12.5px;color:var(--muted);list-style:none}
.legend li{display:flex;align-items:center;gap:6px}
.sw{display:inline-block;width:26px;height:15px;border-radius:3px;background:var(--bg,#fff);
 border-bottom:2px solid var(--b,#999)}
.key{display:inline-block;padding:0 6px;border-radius:3px;color:var(--ink);background:var(--bg);
 border-bottom:2px solid var(--b);line-height:20px}
.legend .k-other{--bg:#f3f4f6;--b:#6b7280}
.note{white-space:pre-wrap;overflow-wrap:anywhere;tab-size:4;margin:0;
 font:14px/1.95 ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,"Noto Sans Mono CJK SC",
 "Noto Sans CJK SC","PingFang SC","Microsoft YaHei","WenQuanYi Zen Hei Mono",monospace}
.note.empty{font-family:inherit;color:var(--muted)}
mark.hl{background:var(--bg,#ececec);color:inherit;border-bottom:2px solid var(--b,#6b7280);border-radius:2px;padding:1px 0;
 -webkit-box-decoration-break:clone;box-decoration-break:clone;cursor:help}
mark.hl.s-refuted,.key.s-refuted{text-decoration:line-through 2px var(--b);background:#fff;
 background:color-mix(in srgb,var(--bg) 40%,#fff);
 border-bottom-style:dotted}
mark.hl.s-family,.key.s-family{outline:1.5px dashed var(--b);outline-offset:1px}
mark.hl.s-inactive,.key.s-inactive{border-bottom-style:dotted;filter:saturate(.45)}
mark.hl.s-planned,.key.s-planned{background-image:repeating-linear-gradient(135deg,transparent 0 4px,
 rgba(255,255,255,.75) 4px 7px)}
mark.hl.s-uncertain,.key.s-uncertain{text-decoration:underline wavy 1px var(--b);text-underline-offset:4px}
mark.hl:focus{outline:2px solid #111;outline-offset:2px}
mark.hl.on,mark.hl:target{box-shadow:0 0 0 2px var(--b);background-color:#fff7c2}
aside{position:sticky;top:12px;max-height:calc(100vh - 24px);overflow:auto;padding:12px 18px 18px}
aside section{padding:8px 0 10px;border-bottom:1px solid var(--line)}
aside section:last-child{border-bottom:0}
aside h3{font-size:14px;margin:2px 0 6px;font-weight:650}
aside ul{list-style:none;margin:0;padding:0}
aside li{padding:4px 0 4px 18px;position:relative;font-size:13.5px}
aside li .sw{position:absolute;left:0;top:9px;width:10px;height:10px;border-radius:50%;border:0;background:var(--b)}
.lbl{font-weight:560}
.chip{display:inline-block;font-size:11px;line-height:16px;padding:0 6px;margin-left:4px;border-radius:8px;
 background:#eef1f4;color:#3d4650;vertical-align:1px}
.chip.warn{background:#fde2e1;color:#8a1c12}
.links{display:block;font-size:12.5px;color:var(--muted)}
.links a{color:#0b57a4;text-decoration:none;margin-right:10px}
details.more summary::marker{font-size:10px}
.links a:hover,.links a:focus{text-decoration:underline}
.nospan{color:var(--muted);font-style:italic}
.empty-reason{color:var(--muted);font-style:italic;font-size:13.5px;margin:0}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:4px 0 0;font-size:13px}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;overflow-wrap:anywhere}
details.more{display:inline}details.more[open]{display:block}
details.more summary{font-size:12px;color:var(--muted);cursor:pointer}
.card .t{font-size:11.5px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.card .name{font-weight:650;font-size:14.5px;margin:1px 0 2px}
#pop{position:absolute;z-index:10;max-width:380px;background:#fff;border:1px solid #c9d0d8;border-radius:8px;
 padding:10px 12px;box-shadow:0 8px 24px rgba(20,30,40,.18);font-size:13px}
#pop .how{margin:6px 0 0;padding-top:6px;border-top:1px solid var(--line);color:var(--muted);font-size:12px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px;z-index:20}
main.wide{display:block}
table.idx{border-collapse:collapse;width:100%;font-size:14px}
table.idx th,table.idx td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line)}
table.idx th{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
table.idx td.n{text-align:right;font-variant-numeric:tabular-nums}
@media (max-width:900px){main{grid-template-columns:1fr}aside{position:static;max-height:none}}
@media print{
 body{background:#fff;font-size:11pt}main{display:block;padding:0}header{padding:0 0 8px}
 .box{border:0}.notebox{padding:0}aside{position:static;max-height:none;overflow:visible;padding:12px 0 0;
 border-top:1px solid #999;margin-top:14px}
 #pop,.skip,details.more{display:none!important}
 mark.hl,.key,.sw{border:1px solid var(--b);-webkit-print-color-adjust:exact;print-color-adjust:exact}
 aside section{break-inside:avoid}.links a{color:inherit}
}
""".strip() + "\n" + _KIND_CSS + "\n"

JS = """
(function(){
var pop=document.getElementById('pop'),cur=null,d=document;
if(!pop)return;
var all=d.querySelectorAll('mark.hl[title]');
for(var i=0;i<all.length;i++){all[i].setAttribute('data-title',all[i].title);all[i].removeAttribute('title');}
function pieces(m){return d.querySelectorAll('mark.hl[data-span="'+m.getAttribute('data-span')+'"]');}
function light(m,on){var l=pieces(m);for(var i=0;i<l.length;i++)l[i].classList.toggle('on',on);}
function hide(){if(cur){light(cur,false);cur=null;}pop.hidden=true;}
function show(m){
 if(cur===m)return;hide();
 var card=d.getElementById(m.getAttribute('data-card'));pop.textContent='';
 if(card){var c=card.cloneNode(true);c.removeAttribute('id');pop.appendChild(c);}
 var p=d.createElement('p'),s='Characters '+m.getAttribute('data-offset')+'\\u2013'+
  (+m.getAttribute('data-offset')+ +m.getAttribute('data-length'));
 if(m.getAttribute('data-match'))s+=' \\u00b7 match: '+m.getAttribute('data-match');
 if(m.getAttribute('data-origin'))s+=' \\u00b7 from: '+m.getAttribute('data-origin');
 p.className='how';p.textContent=s;pop.appendChild(p);pop.hidden=false;
 var r=m.getBoundingClientRect(),w=pop.offsetWidth,h=pop.offsetHeight,sx=window.scrollX,sy=window.scrollY;
 var x=Math.max(8,Math.min(r.left,d.documentElement.clientWidth-w-8))+sx,y=r.bottom+6+sy;
 if(r.bottom+h+12>window.innerHeight&&r.top>h+12)y=r.top-h-6+sy;
 pop.style.left=x+'px';pop.style.top=y+'px';cur=m;light(m,true);
}
function mark(e){return e.target&&e.target.closest?e.target.closest('mark.hl'):null;}
d.addEventListener('mouseover',function(e){var m=mark(e);if(m)show(m);else if(cur&&cur!==d.activeElement)hide();});
d.addEventListener('focusin',function(e){var m=mark(e);if(m)show(m);});
d.addEventListener('focusout',function(e){if(mark(e))hide();});
d.addEventListener('keydown',function(e){if(e.key==='Escape')hide();});
d.addEventListener('click',function(e){
 var a=e.target.closest&&e.target.closest('a.jump');if(!a)return;
 var t=d.getElementById(a.getAttribute('href').slice(1));if(!t)return;
 e.preventDefault();t.scrollIntoView({block:'center'});t.focus({preventScroll:true});
});
})();
""".strip() + "\n"
