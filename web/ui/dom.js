// Building DOM from untrusted data: text only ever goes in as textContent.

// A `tag` element with an optional class and text.
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}
