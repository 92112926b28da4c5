/* filehash.h - content hash of a file (XXH3-128 from libxxhash, as 32 hex digits). */
#ifndef SLUICE_FILEHASH_H
#define SLUICE_FILEHASH_H

#include <stdint.h>

#define FILEHASH_HEX_LEN 32

/* Hash the whole content of fd from offset 0 (uses pread; the file position is unchanged).
 * hex gets FILEHASH_HEX_LEN digits and a NUL. 0, or -1 with errno set. */
int filehash_fd(int fd, char hex[FILEHASH_HEX_LEN + 1]);

#endif
