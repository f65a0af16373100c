/**
 * The frameworks `observatory new service --framework` starts a service on, each with the packages it adds to the
 * service's package.json. Express' versions are this repository's own; the others are the versions the framework
 * tests install (test/frameworks), which import them from here.
 */
export const FRAMEWORK_NAMES = ['express', 'fastify', 'koa'] as const;
export type FrameworkName = (typeof FRAMEWORK_NAMES)[number];

export interface FrameworkPackages {
  /** How the service's README names it. */
  label: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

/** The versions this repository pins (package.json), for the packages it uses itself. */
export type RepoVersions = Record<string, string>;

export function frameworkPackages(name: FrameworkName, repo: RepoVersions): FrameworkPackages {
  const pinned = (pkg: string) => {
    const version = repo[pkg];
    if (!version) throw new Error(`${pkg} is not a dependency of this repository`);
    return version;
  };
  switch (name) {
    case 'express':
      return {
        label: 'Express',
        dependencies: { express: pinned('express') },
        devDependencies: { '@types/express': pinned('@types/express') },
      };
    case 'fastify':
      return { label: 'Fastify', dependencies: { fastify: '5.12.8' }, devDependencies: {} };
    case 'koa':
      return {
        label: 'Koa',
        dependencies: { koa: '3.3.0', '@koa/router': '15.7.0' },
        devDependencies: { '@types/koa': '3.0.3' },
      };
  }
}
