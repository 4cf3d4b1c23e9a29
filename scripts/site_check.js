// Run inside the pages of the HTML course and the decks by scripts/site_check.py (Playwright's
// page.evaluate). Each entry point returns plain data (JSON) that scripts/site_pages.py judges.
// The whole file is evaluated as the body of one function, so nothing here leaks into the page.

// The text of ROOT outside code, outputs and typeset math, and the raw TeX found in it; and a
// promise that MathJax (if the page has it) and the fonts are ready.
const rawTeX = root => {
  const skip = 'pre, code, script, style, mjx-container, .cell_output, .jp-OutputArea, .highlight';
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT,
    {acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const found = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const m = n.textContent.match(/\$\$|\\[()\[\]]|\\(frac|sum|log|exp|mathbf|mathrm|text|left|right|cdot|sigma|odot|top)\b|\$[^$\s][^$]*\$/);
    if (m) found.push(n.textContent.trim().slice(0, 80));
  }
  return found;
};
const mathReady = async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) { /* reported as untypeset equations */ }
  }
  await document.fonts.ready;
};

// What a reader sees on a page of the course, once its images, fonts and equations are ready.
const pageReport = async () => {
  const article = document.querySelector('article.bd-article') || document.body;
  const imgs = [...article.querySelectorAll('img')];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  await mathReady();
  const oneColour = img => {
    try {
      const w = Math.min(img.naturalWidth, 600), h = Math.min(img.naturalHeight, 600);
      if (!w || !h) return null;
      const c = document.createElement('canvas'); c.width = w; c.height = h;
      const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0, w, h);
      const d = ctx.getImageData(0, 0, w, h).data;
      for (let k = 4; k < d.length; k += 4)
        if (d[k] !== d[0] || d[k+1] !== d[1] || d[k+2] !== d[2] || d[k+3] !== d[3]) return false;
      return true;
    } catch (e) { return null; }
  };
  const box = e => { const r = e.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; };
  const h1 = article.querySelector('h1');
  const href = sel => { const a = document.querySelector(sel); return a ? a.getAttribute('href') : null; };
  const maths = [...article.querySelectorAll('span.math, div.math')];
  const firstMath = article.querySelector('div.math') || maths[0];
  return {
    title: document.title,
    h1: h1 ? h1.textContent.replace(/#\s*$/, '').replace(/\s+/g, ' ').trim() : null,
    images: imgs.map(i => ({src: i.getAttribute('src').slice(0, 60), complete: i.complete,
      natural: [i.naturalWidth, i.naturalHeight], box: box(i), oneColour: oneColour(i),
      inHtml: !!i.closest('.text_html')})),
    outputs: article.querySelectorAll('.cell > .cell_output').length,
    htmlOutputs: [...article.querySelectorAll('.cell_output .text_html')].map(e => ({
      text: e.textContent.replace(/\s+/g, ' ').trim(), box: box(e),
      escaped: /<(div|svg|img|table)\b/i.test(e.textContent),
      images: [...e.querySelectorAll('img')].map(i => i.naturalWidth > 0 && i.naturalHeight > 0)})),
    hidden: [...article.querySelectorAll('.cell.tag_hide-input, .cell.tag_hide-cell')].map(c => {
      const d = c.querySelector('details'), inp = c.querySelector('.cell_input'), out = c.querySelector('.cell_output');
      return {toggle: !!d, open: d ? d.open : null, summary: d ? d.querySelector('summary').textContent.trim() : null,
              inputVisible: inp ? inp.checkVisibility() : null,
              outputVisible: c.classList.contains('tag_hide-cell') && out ? out.checkVisibility() : null}; }),
    math: {count: maths.length, typeset: maths.filter(m => m.querySelector('mjx-container')).length,
           raw: rawTeX(article), box: firstMath ? box(firstMath.closest('p, div.math, li') || firstMath) : null},
    prev: href('.prev-next-area a.left-prev'),
    next: href('.prev-next-area a.right-next'),
    articleLinks: [...article.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    ids: [...article.querySelectorAll('[id]')].map(e => e.id),
    navLinks: [...document.querySelectorAll('nav.bd-docs-nav a[href]')].map(a => a.getAttribute('href')),
  };
};

// The current slide of a reveal.js deck, once MathJax has typeset it.
const deckReport = async () => {
  await mathReady();
  const slide = Reveal.getCurrentSlide(), r = slide.getBoundingClientRect();
  return {indices: Reveal.getIndices(), total: Reveal.getTotalSlides(),
          text: slide.textContent.replace(/\s+/g, ' ').trim().slice(0, 60),
          visible: r.width > 0 && r.height > 0 && slide.checkVisibility(),
          math: document.querySelectorAll('.slides mjx-container').length,
          raw: rawTeX(document.querySelector('.slides'))};
};

// Go to the deck's first vertical slide with a typeset equation (false when it has none).
const gotoMathSlide = () => {
  const math = document.querySelector('.slides section > section mjx-container');
  if (!math) return false;
  const i = Reveal.getIndices(math.closest('.slides section > section'));
  Reveal.slide(i.h, i.v);
  return true;
};
