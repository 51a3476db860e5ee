// What a page reports to its driver: `globalThis.__caposReport(event)`, where the site's
// pages send each event as JSON text (web/ui/session.js). Playwright serializes an object
// argument field by field, at about a quarter of a millisecond per entry: a 1,000-file
// snapshot at a halt took 250 ms as an object, 30 as text. An object is still taken.
export async function exposeReport(page, onEvent) {
  await page.exposeFunction('__caposReport', (raw) => {
    let event = raw;
    if (typeof raw === 'string') {
      try {
        event = JSON.parse(raw);
      } catch {
        return;
      }
    }
    if (event === null || typeof event !== 'object' || typeof event.kind !== 'string') return;
    onEvent(event);
  });
}
