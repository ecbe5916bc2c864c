/**
 * Escapes text for HTML and inline SVG, in element content and in quoted attribute values alike.
 * Every string that comes from a scenario or a timeline goes through it: names, ids and reasons are
 * input from outside, and the report is opened from disk with full page privileges.
 */
export function escapeHtml(value: string | number | boolean): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
