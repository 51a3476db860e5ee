// The status line and the fatal-error banner.

export function setStatus(element, text, tone = '') {
  element.textContent = text;
  element.parentElement.className = tone;
}

export function showFatal(element, text) {
  element.textContent = text;
  element.hidden = false;
}
