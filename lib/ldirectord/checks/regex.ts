/**
 * `receive=` is a Perl regex matched unanchored. JavaScript's syntax covers
 * what ldirectord.cf files use (literals, classes, anchors, alternation); a
 * pattern JavaScript cannot compile is matched as a literal substring, and
 * the empty pattern accepts anything.
 */
export function receiveMatcher(pattern: string): (text: string) => boolean {
  if (pattern === '') return () => true;
  try {
    const re = new RegExp(pattern, 'm');
    return (text) => re.test(text);
  } catch {
    return (text) => text.includes(pattern);
  }
}
