// What the responsive walk (test_responsive.py) measures on a page, in words: empty when nothing is wrong.
// - the page never scrolls sideways, and no box that scrolls sideways holds anything wider than itself unless it
//   shows its cue to scroll (static/portal/scroll.js);
// - no visible text is drawn smaller than 12px (an SVG's text at its drawn size, after the drawing is scaled);
// - the header, the content and the footer are one width;
// - the inputs of the page's content (text boxes, lists to choose from, autocompletes) share one text size.
() => {
  const width = window.innerWidth;
  const problems = [];
  const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${[...el.classList].slice(0, 3).map(c => '.' + c).join('')}`;
  const page = document.documentElement.scrollWidth - width;
  if (page > 0) problems.push(`the page scrolls ${page} px sideways`);
  for (const box of document.querySelectorAll('body *')) {
    if (!['auto', 'scroll'].includes(getComputedStyle(box).overflowX) || box.clientWidth === 0) continue;
    const over = box.scrollWidth - box.clientWidth;
    if (over <= 0) continue;
    const hint = box.previousElementSibling;
    const cued = box.hasAttribute('data-portal-scroll-cue') && hint && hint.classList.contains('portal-scroll-hint') && hint.getBoundingClientRect().height > 0;
    if (!cued) problems.push(`${describe(box)} holds something ${over} px wider than itself, with no cue to scroll`);
  }
  const small = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || el.closest('script,style,noscript,template,title,desc,.nhsuk-u-visually-hidden,.nhsuk-skip-link')) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    let size = parseFloat(style.fontSize);
    if (el instanceof SVGElement && el.getScreenCTM()) {
      const m = el.getScreenCTM();
      size *= Math.sqrt(m.a * m.a + m.b * m.b);
    }
    if (size < 11.95) small.add(`${describe(el)} “${node.textContent.trim().slice(0, 24)}” at ${size.toFixed(1)} px`);
  }
  if (small.size) problems.push(`text below 12 px: ${[...small].slice(0, 4).join('; ')}`);
  const content = document.querySelector('main') && document.querySelector('main').closest('.nhsuk-width-container');
  for (const [name, selector] of [['header', 'header .nhsuk-header__container'], ['footer', 'footer .nhsuk-width-container']]) {
    const part = document.querySelector(selector);
    if (!part || !content) continue;
    const a = part.getBoundingClientRect(), c = content.getBoundingClientRect();
    if (Math.abs(a.left - c.left) > 1 || Math.abs(a.right - c.right) > 1) {
      problems.push(`the ${name} spans ${Math.round(a.left)}–${Math.round(a.right)} px, the content ${Math.round(c.left)}–${Math.round(c.right)} px`);
    }
  }
  const sizes = new Map();
  for (const input of document.querySelectorAll('main input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit]), main select, main textarea')) {
    if (input.getBoundingClientRect().width === 0) continue;
    const size = getComputedStyle(input).fontSize;
    if (!sizes.has(size)) sizes.set(size, describe(input));
  }
  if (sizes.size > 1) problems.push(`inputs in ${sizes.size} text sizes: ${[...sizes].map(([size, el]) => `${el} ${size}`).join(', ')}`);
  return problems;
}
