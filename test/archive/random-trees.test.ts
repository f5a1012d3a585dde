/**
 * Random trees through the archive writers (GNU tar format, cpio newc), extracted by GNU
 * tar and GNU cpio and compared with the source byte for byte, hard links included.
 */
import { roundTripTests } from '../helpers/round-trip-tests.js';

roundTripTests(['tar', 'cpio'], { tar: 10_000, cpio: 10_000 });
