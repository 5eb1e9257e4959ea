// SiteLift core: error type shared by every module.
//
// The core reports failures by throwing sitelift::Error. Its kind tells the PHP binding which
// SiteLift\Exception subclass to raise; the message is meant for a person and must never hold a secret.
#pragma once

#include <stdexcept>
#include <string>

namespace sitelift {

enum class ErrorKind {
    usage,      // bad option or argument given to the engine
    io,         // file system or stream failure (open, read, write, disk full)
    archive,    // malformed, truncated or unsupported archive
    integrity,  // checksum, size or row count does not match the manifest
    security,   // hostile input: path escape, forbidden entry type, SQL touching another table
    database,   // MariaDB/MySQL error
    state,      // wrong job state: nothing to roll back, another job running, interrupted swap
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

// Throws Error(kind, message + ": " + strerror(errnum)).
[[noreturn]] void throw_errno(ErrorKind kind, const std::string& message, int errnum);

}  // namespace sitelift
