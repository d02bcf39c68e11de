/** Where ldirectord looks for its config argument, in order (spec §1); the first that is a file wins. */
export const HA_D_DIRS = ['/etc/ha.d', '/etc/ha.d/conf'] as const;

/** The default config name when none is given. */
export const DEFAULT_CONFIG_NAME = 'ldirectord.cf';

/**
 * `/etc/ha.d/<arg>`, `/etc/ha.d/conf/<arg>`, then `<arg>` itself (relative to the
 * cwd or absolute). So a file in the cwd named like one in /etc/ha.d loses, as in
 * the original. Returns undefined when none is a regular file.
 */
export function findConfigFile(arg: string, isFile: (path: string) => boolean, dirs: readonly string[] = HA_D_DIRS): string | undefined {
  for (const dir of dirs) {
    const candidate = `${dir}/${arg}`;
    if (isFile(candidate)) return candidate;
  }
  return isFile(arg) ? arg : undefined;
}
