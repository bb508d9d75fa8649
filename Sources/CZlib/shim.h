// zlib's crc32 (table-braided, or carry-less multiply where the CPU has it) for STUN's FINGERPRINT.
#include <zlib.h>
