/** The UKI as systemd-stub defines it: sections, profiles, addons, a ukify-like builder and the stub reference. */
export {
  ADDON_SBAT,
  appendSection,
  buildUki,
  type ExtraSection,
  joinInitrds,
  mergeSbat,
  PROFILE_IMPORTS,
  plannedSections,
  scrapeUname,
  stripTrailingSymbolTable,
  UKI_SBAT,
  type UkiBuildInput,
} from './build.ts';
export { UKI_ERROR, UkiError, type UkiErrorCode } from './errors.ts';
export {
  addonProblem,
  describeRanges,
  type HardwareMatch,
  isSet,
  type LocatedSection,
  located,
  locateSections,
  profileCount,
  profileView,
  readAddon,
  readUki,
  type SectionView,
  sectionNameIs,
  splitRanges,
  type UkiAddon,
  type UkiImage,
  viewData,
} from './model.ts';
export {
  ADDON_PAYLOAD_SECTIONS,
  isUkiSectionName,
  PROFILES_MAX,
  sectionInfo,
  UKI_SECTION_NAMES,
  UKI_SECTIONS,
  type UkiSectionInfo,
  type UkiSectionName,
} from './sections.ts';
export {
  type AddonOutcome,
  combineInitrds,
  type EspFile,
  type InitrdPiece,
  type InitrdPieceKind,
  processArguments,
  type StubHandoff,
  type StubInput,
  selectAddons,
  stubHandoff,
} from './stub-reference.ts';
export { cString, mangleCmdline, profileFromArgument, splitProfilePrefix, unameMatches, utf8ToUcs2 } from './text.ts';
