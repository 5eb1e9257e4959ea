#pragma once

#define SITELIFT_VERSION "0.1.0"
// Bumped whenever the archive layout or manifest changes incompatibly.
#define SITELIFT_ARCHIVE_FORMAT 1
