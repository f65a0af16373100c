/**
 * The packages the preload loads by name when its configuration chooses them (instrumentation/src/lazy.ts), for the
 * builds that must ship them although no import names them: the installable package (packages/build.ts) and the
 * Lambda bundle (deploy/aws/etl/build.ts). Build-time names only: importing this starts nothing.
 */
export {
  AUTO_INSTRUMENTATIONS_PACKAGE,
  B3_PROPAGATOR_PACKAGE,
  BUNDLED_PACKAGES,
  instrumentationPackage,
  lazyPackages,
  otlpExporterPackages,
} from './src/lazy.ts';
export type { OtlpFlavour } from './src/lazy.ts';
