// Helpers shared by the core's GoogleTest files.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <stdlib.h>

#include "db.hpp"

namespace sitelift::test_support {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it when the object goes.
struct TempDir {
    std::string path;
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sl-core-test-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = buf.data();
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& name) const { return path + "/" + name; }
};

// The scratch database of the DB tests, from SITELIFT_TEST_DB_HOST (a WordPress DB_HOST), _PORT (optional),
// _USER, _PASSWORD (optional) and _NAME. False, with the reason in why, when they are not set.
inline bool env_config(DbConfig& cfg, std::string& why) {
    const char* host = std::getenv("SITELIFT_TEST_DB_HOST");
    const char* port = std::getenv("SITELIFT_TEST_DB_PORT");
    const char* user = std::getenv("SITELIFT_TEST_DB_USER");
    const char* pass = std::getenv("SITELIFT_TEST_DB_PASSWORD");
    const char* name = std::getenv("SITELIFT_TEST_DB_NAME");
    if (!host || !*host || !user || !*user || !name || !*name) {
        why = "database tests need SITELIFT_TEST_DB_HOST, SITELIFT_TEST_DB_USER and SITELIFT_TEST_DB_NAME "
              "(plus optional SITELIFT_TEST_DB_PORT, SITELIFT_TEST_DB_PASSWORD) naming a scratch database";
        return false;
    }
    apply_wp_db_host(cfg, host);
    if (port && *port) cfg.port = static_cast<unsigned>(std::stoul(port));
    cfg.user = user;
    cfg.password = pass ? pass : "";
    cfg.database = name;
    return true;
}

}  // namespace sitelift::test_support
