#include "error.hpp"

#include <cstring>

namespace sitelift {

void throw_errno(ErrorKind kind, const std::string& message, int errnum) {
    char buf[256];
    // GNU strerror_r may return a static string instead of filling buf.
    const char* text = strerror_r(errnum, buf, sizeof buf);
    throw Error(kind, message + ": " + text);
}

}  // namespace sitelift
