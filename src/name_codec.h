/*
 * name_codec.h - a file name's bytes as text for the ledger and the logs, losslessly.
 */
#ifndef SLUICE_NAME_CODEC_H
#define SLUICE_NAME_CODEC_H

#include <stdbool.h>
#include <stddef.h>

/* The encoded form of name[0..n): strict UTF-8 without NUL, in a heap string the caller frees.
 * Every name that is valid UTF-8 and does not contain a backslash followed by 'x' and two hex
 * digits encodes to itself. */
char *name_encode(const char *name, size_t n);
/* The bytes an encoded name stands for, NUL-terminated, in a heap buffer the caller frees;
 * *n gets their count. Decoding never fails: text that name_encode cannot have produced decodes
 * to some bytes, and name_encode(name_decode(e)) == e holds for every e name_encode produced. */
char *name_decode(const char *enc, size_t *n);
/* True when name[0..n) is a plain entry of a folder: not empty, no '/', no NUL, not "." or "..".
 * Only such names may ever be opened relative to the hot folder. */
bool name_is_plain(const char *name, size_t n);

#endif
