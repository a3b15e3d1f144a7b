/** The addon-name map (bpf/abi ADDON_MAP) as the loader creates and fills it before the program runs. */
import { ADDON_MAP } from '../../bpf/abi/index.ts';
import { ArrayMap } from './array-map.ts';

/** `kexec_addons`, slot i holding names[i] NUL-terminated; throws RangeError for too many or too long names. */
export const addonNameMap = (names: readonly string[]): ArrayMap => {
  if (names.length > ADDON_MAP.maxEntries)
    throw new RangeError(`${names.length} addons: the addon-name map holds ${ADDON_MAP.maxEntries}`);
  const map = new ArrayMap({
    name: ADDON_MAP.name,
    keySize: ADDON_MAP.keySize,
    valueSize: ADDON_MAP.valueSize,
    maxEntries: ADDON_MAP.maxEntries,
    mapFlags: ADDON_MAP.mapFlags,
  });
  names.forEach((n, i) => {
    const b = Buffer.from(n, 'latin1');
    if (b.length >= ADDON_MAP.valueSize || b.includes(0))
      throw new RangeError(`addon name ${JSON.stringify(n)} does not fit a ${ADDON_MAP.valueSize}-byte slot`);
    map.element(i).set(b);
  });
  return map;
};
