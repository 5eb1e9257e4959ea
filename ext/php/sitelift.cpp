// The Zend binding: converts PHP arguments into engine options, engine results into PHP arrays and engine
// errors into SiteLift\Exception subclasses. No C++ exception ever crosses into the Zend engine, and no Zend
// bailout ever jumps over live C++ frames.
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

// The engine's headers (and the standard library's) come before PHP's, whose macros (snprintf, ...) would
// otherwise rename what they declare.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "archive.hpp"
#include "error.hpp"
#include "export.hpp"
#include "import.hpp"
#include "push.hpp"
#include "receive.hpp"
#include "rewrite.hpp"
#include "sha256.hpp"
#include "version.hpp"
#include "workdir.hpp"

extern "C" {
#include "php.h"
#include "SAPI.h"
#include "ext/standard/info.h"
#include "ext/standard/php_fopen_wrappers.h"
#include "zend_attributes.h"
#include "zend_exceptions.h"
#include "zend_interfaces.h"
#include "ext/spl/spl_exceptions.h"
}

#include "php_sitelift.h"

#include "sitelift_arginfo.h"

ZEND_DECLARE_MODULE_GLOBALS(sitelift)

namespace {

zend_class_entry* ce_exception;
zend_class_entry* ce_usage;
zend_class_entry* ce_io;
zend_class_entry* ce_archive;
zend_class_entry* ce_integrity;
zend_class_entry* ce_security;
zend_class_entry* ce_database;
zend_class_entry* ce_state;

zend_class_entry* class_for(sitelift::ErrorKind kind) {
    switch (kind) {
        case sitelift::ErrorKind::usage: return ce_usage;
        case sitelift::ErrorKind::io: return ce_io;
        case sitelift::ErrorKind::archive: return ce_archive;
        case sitelift::ErrorKind::integrity: return ce_integrity;
        case sitelift::ErrorKind::security: return ce_security;
        case sitelift::ErrorKind::database: return ce_database;
        case sitelift::ErrorKind::state: return ce_state;
    }
    return ce_exception;
}

// Thrown through the engine when PHP code called back from it raised an exception or bailed out; the PHP side
// of the story is already recorded in the executor globals.
struct Interrupted {};

// A bad option: raised as ValueError/TypeError in the caller's frame.
struct OptionError {
    std::string message;
    bool type_error;
};

// Runs engine work. Every C++ exception stops here; a bailout seen during a callback is resumed only after
// the C++ frames between here and the callback have unwound.
template <typename Fn>
void guarded(Fn&& fn) {
    bool bailed = false;
    try {
        fn(bailed);
    } catch (const Interrupted&) {
    } catch (const OptionError& e) {
        if (e.type_error)
            zend_argument_type_error(1, "%s", e.message.c_str());
        else
            zend_argument_value_error(1, "%s", e.message.c_str());
    } catch (const sitelift::Error& e) {
        zend_throw_exception(class_for(e.kind()), e.what(), 0);
    } catch (const std::bad_alloc&) {
        zend_throw_exception(ce_exception, "SiteLift ran out of memory", 0);
    } catch (const std::exception& e) {
        zend_throw_exception_ex(ce_exception, 0, "SiteLift internal error: %s", e.what());
    } catch (...) {
        zend_throw_exception(ce_exception, "SiteLift internal error", 0);
    }
    if (bailed) zend_bailout();
}

// ---- reading the options array ----------------------------------------------------------------------------

class Options {
public:
    Options(HashTable* ht, std::vector<const char*> allowed) : ht_(ht) {
        zend_string* key;
        ZEND_HASH_FOREACH_STR_KEY(ht, key) {
            if (!key) throw OptionError{"must have string keys", false};
            bool ok = false;
            for (const char* a : allowed) ok = ok || zend_string_equals_cstr(key, a, std::strlen(a));
            if (!ok) throw OptionError{std::string("has an unknown option \"") + ZSTR_VAL(key) + "\"", false};
        }
        ZEND_HASH_FOREACH_END();
    }

    zval* find(const char* name) const {
        zval* v = zend_hash_str_find(ht_, name, std::strlen(name));
        if (v) ZVAL_DEREF(v);
        return (v && Z_TYPE_P(v) != IS_NULL) ? v : nullptr;
    }

    std::string str(const char* name, bool required = false, const std::string& fallback = "") const {
        zval* v = find(name);
        if (!v) {
            if (required) throw OptionError{std::string("must contain \"") + name + "\"", false};
            return fallback;
        }
        if (Z_TYPE_P(v) != IS_STRING) throw OptionError{std::string("option \"") + name + "\" must be a string", true};
        return std::string(Z_STRVAL_P(v), Z_STRLEN_P(v));
    }

    bool flag(const char* name, bool fallback) const {
        zval* v = find(name);
        if (!v) return fallback;
        if (Z_TYPE_P(v) == IS_TRUE) return true;
        if (Z_TYPE_P(v) == IS_FALSE) return false;
        throw OptionError{std::string("option \"") + name + "\" must be a bool", true};
    }

    long integer(const char* name, long fallback, long min, long max) const {
        zval* v = find(name);
        if (!v) return fallback;
        if (Z_TYPE_P(v) != IS_LONG) throw OptionError{std::string("option \"") + name + "\" must be an int", true};
        long n = static_cast<long>(Z_LVAL_P(v));
        if (n < min || n > max)
            throw OptionError{std::string("option \"") + name + "\" must be between " + std::to_string(min) + " and " +
                                  std::to_string(max),
                              false};
        return n;
    }

    std::vector<std::string> strings(const char* name) const {
        std::vector<std::string> out;
        zval* v = find(name);
        if (!v) return out;
        if (Z_TYPE_P(v) != IS_ARRAY) throw OptionError{std::string("option \"") + name + "\" must be an array", true};
        zval* item;
        ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(v), item) {
            ZVAL_DEREF(item);
            if (Z_TYPE_P(item) != IS_STRING)
                throw OptionError{std::string("option \"") + name + "\" must hold only strings", true};
            out.emplace_back(Z_STRVAL_P(item), Z_STRLEN_P(item));
        }
        ZEND_HASH_FOREACH_END();
        return out;
    }

    sitelift::DbConfig db() const {
        zval* v = find("db");
        if (!v || Z_TYPE_P(v) != IS_ARRAY) throw OptionError{"must contain \"db\" as an array", false};
        Options d(Z_ARRVAL_P(v), {"host", "user", "password", "name"});
        sitelift::DbConfig cfg;
        sitelift::apply_wp_db_host(cfg, d.str("host", false, "localhost"));
        cfg.user = d.str("user", true);
        cfg.password = d.str("password", false);
        cfg.database = d.str("name", true);
        return cfg;
    }

private:
    HashTable* ht_;
};

// ---- progress callbacks into PHP ----------------------------------------------------------------------------

struct Callback {
    zend_fcall_info fci = empty_fcall_info;
    zend_fcall_info_cache fcc = empty_fcall_info_cache;
    bool set = false;
};

void read_callback(const Options& o, const char* name, Callback& cb) {
    zval* v = o.find(name);
    if (!v) return;
    char* error = nullptr;
    if (zend_fcall_info_init(v, 0, &cb.fci, &cb.fcc, nullptr, &error) != SUCCESS) {
        std::string msg = std::string("option \"") + name + "\" must be a valid callback";
        if (error) {
            msg += std::string(", ") + error;
            efree(error);
        }
        throw OptionError{msg, true};
    }
    if (error) efree(error);
    cb.set = true;
}

sitelift::ProgressFn progress_fn(Callback& cb, bool& bailed) {
    if (!cb.set) return {};
    return [&cb, &bailed](const sitelift::Progress& p) {
        zval arg, retval;
        array_init(&arg);
        add_assoc_stringl(&arg, "phase", p.phase.data(), p.phase.size());
        add_assoc_stringl(&arg, "item", p.item.data(), p.item.size());
        add_assoc_long(&arg, "done", static_cast<zend_long>(p.done));
        add_assoc_long(&arg, "total", static_cast<zend_long>(p.total));
        ZVAL_UNDEF(&retval);
        cb.fci.params = &arg;
        cb.fci.param_count = 1;
        cb.fci.retval = &retval;
        bool bail = false;
        zend_try {
            zend_call_function(&cb.fci, &cb.fcc);
        }
        zend_catch {
            bail = true;
        }
        zend_end_try();
        zval_ptr_dtor(&arg);
        if (bail) {
            bailed = true;
            throw Interrupted{};
        }
        zval_ptr_dtor(&retval);
        if (EG(exception)) throw Interrupted{};
    };
}

void add_str(zval* arr, const char* key, const std::string& s) { add_assoc_stringl(arr, key, s.data(), s.size()); }

void add_count(zval* arr, const char* key, uint64_t n) { add_assoc_long(arr, key, static_cast<zend_long>(n)); }

void add_list(zval* arr, const char* key, const std::vector<std::string>& items) {
    zval list;
    array_init_size(&list, static_cast<uint32_t>(items.size()));
    for (const auto& s : items) add_next_index_stringl(&list, s.data(), s.size());
    add_assoc_zval(arr, key, &list);
}

// An engine result given as JSON becomes a PHP array. Decoding through PHP's own json extension keeps this
// binding free of conversion code.
void return_json(zval* return_value, const nlohmann::json& value) {
    std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    zval fn, args[2];
    ZVAL_STRING(&fn, "json_decode");
    ZVAL_STRINGL(&args[0], text.data(), text.size());
    ZVAL_TRUE(&args[1]);
    call_user_function(nullptr, nullptr, &fn, return_value, 2, args);
    zval_ptr_dtor(&fn);
    zval_ptr_dtor(&args[0]);
    if (Z_TYPE_P(return_value) != IS_ARRAY) {
        zval_ptr_dtor(return_value);
        array_init(return_value);
    }
}

}  // namespace

ZEND_FUNCTION(SiteLift_version) {
    ZEND_PARSE_PARAMETERS_NONE();
    RETURN_STRING(SITELIFT_VERSION);
}

ZEND_FUNCTION(SiteLift_export) {
    HashTable* ht;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(ht)
    ZEND_PARSE_PARAMETERS_END();

    guarded([&](bool& bailed) {
        Options o(ht, {"path", "output", "compress", "level", "exclude", "default_excludes", "all_tables", "db",
                       "table_prefix", "wp_version", "charset", "collate", "multisite", "progress"});
        sitelift::ExportOptions eo;
        eo.root = o.str("path", true);
        eo.output = o.str("output", true);
        eo.compression = sitelift::parse_compression(o.str("compress", false, "zstd"));
        eo.level = static_cast<int>(o.integer("level", 0, sitelift::kZstdFastest, 22));  // the writer checks per compression
        eo.excludes = o.strings("exclude");
        eo.default_excludes = o.flag("default_excludes", true);
        eo.all_tables = o.flag("all_tables", false);
        eo.db = o.db();
        eo.table_prefix = o.str("table_prefix", false, "wp_");
        eo.wp_version = o.str("wp_version");
        eo.php_version = PHP_VERSION;
        eo.charset = o.str("charset");
        eo.collate = o.str("collate");
        eo.multisite = o.flag("multisite", false);
        Callback cb;
        read_callback(o, "progress", cb);
        eo.progress = progress_fn(cb, bailed);

        sitelift::ExportResult r = sitelift::export_site(eo);

        array_init(return_value);
        add_count(return_value, "tables", r.tables);
        add_count(return_value, "rows", r.rows);
        add_count(return_value, "views", r.views);
        add_count(return_value, "files", r.files);
        add_count(return_value, "dirs", r.dirs);
        add_count(return_value, "symlinks", r.symlinks);
        add_count(return_value, "file_bytes", r.file_bytes);
        add_count(return_value, "sql_bytes", r.sql_bytes);
        add_count(return_value, "archive_bytes", r.archive_bytes);
        add_assoc_double(return_value, "seconds", r.seconds);
        add_list(return_value, "warnings", r.warnings);
    });
}

namespace {

sitelift::SiteTarget read_target(const Options& o);

// The argument of functions that take nothing but a site: path, db, table_prefix.
sitelift::SiteTarget read_site_only(HashTable* ht) {
    Options o(ht, {"path", "db", "table_prefix"});
    return read_target(o);
}

sitelift::SiteTarget read_target(const Options& o) {
    sitelift::SiteTarget t;
    t.root = o.str("path", true);
    t.db = o.db();
    t.table_prefix = o.str("table_prefix", false, "wp_");
    return t;
}

}  // namespace

ZEND_FUNCTION(SiteLift_import) {
    HashTable* ht;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(ht)
    ZEND_PARSE_PARAMETERS_END();

    guarded([&](bool& bailed) {
        Options o(ht, {"path", "input", "db", "table_prefix", "url", "rewrite", "rewrite_guids", "threads", "progress"});
        sitelift::ImportOptions io;
        io.target = read_target(o);
        io.input = o.str("input", true);
        io.url = o.str("url");
        io.rewrite = o.flag("rewrite", true);
        io.rewrite_guids = o.flag("rewrite_guids", false);
        // Three connections by default: on the 2-core benchmark machine, with the flushing of the previous load
        // settled, the medium site's database loaded in 6.6-7.8 s on three, 8.6-8.7 s on two (myloader -t 2:
        // 8.8 s) and 8.0-8.4 s on four. A part received in a php-fpm worker keeps two (its memory).
        io.db_threads = static_cast<unsigned>(o.integer("threads", 3, 1, 16));
        Callback cb;
        read_callback(o, "progress", cb);
        io.progress = progress_fn(cb, bailed);

        sitelift::ImportResult r = sitelift::import_site(io);

        array_init(return_value);
        add_count(return_value, "tables", r.tables);
        add_count(return_value, "rows", r.rows);
        add_count(return_value, "files", r.files);
        add_count(return_value, "dirs", r.dirs);
        add_count(return_value, "symlinks", r.symlinks);
        add_count(return_value, "file_bytes", r.file_bytes);
        add_count(return_value, "values_changed", r.values_changed);
        add_count(return_value, "values_skipped_unsafe", r.values_skipped_unsafe);
        zval tables;
        array_init(&tables);
        for (const auto& [name, rep] : r.table_reports) {
            zval t;
            array_init(&t);
            add_count(&t, "rows", rep.rows);
            add_count(&t, "values_changed", rep.values_changed);
            add_count(&t, "values_skipped_unsafe", rep.values_skipped_unsafe);
            zval columns;
            array_init(&columns);
            for (const auto& [column, n] : rep.skipped_by_column) add_count(&columns, column.c_str(), n);
            add_assoc_zval(&t, "skipped_by_column", &columns);
            add_assoc_zval_ex(&tables, name.data(), name.size(), &t);
        }
        add_assoc_zval(return_value, "table_reports", &tables);
        add_str(return_value, "source_url", r.source_url);
        add_str(return_value, "destination_url", r.destination_url);
        add_assoc_double(return_value, "seconds", r.seconds);
        add_list(return_value, "warnings", r.warnings);
    });
}

ZEND_FUNCTION(SiteLift_rollback) {
    HashTable* ht;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(ht)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool&) {
        sitelift::rollback_site(read_site_only(ht));
    });
}

ZEND_FUNCTION(SiteLift_cleanup) {
    HashTable* ht;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(ht)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool&) {
        sitelift::cleanup_site(read_site_only(ht));
    });
}

ZEND_FUNCTION(SiteLift_status) {
    zend_string* path;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_PATH_STR(path)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool&) { return_json(return_value, sitelift::site_state(std::string(ZSTR_VAL(path), ZSTR_LEN(path)))); });
}

namespace {

// What SiteLift\rewrite() keeps between calls (SITELIFT_G(rewrite_cache)): the rewriter it built last and the
// pairs and mode it was built from.
struct RewriteCache {
    std::string key;
    sitelift::Rewriter rewriter;
};

}  // namespace

ZEND_FUNCTION(SiteLift_rewrite) {
    zend_string* value;
    HashTable* pairs;
    bool all_forms = true;
    ZEND_PARSE_PARAMETERS_START(2, 3)
        Z_PARAM_STR(value)
        Z_PARAM_ARRAY_HT(pairs)
        Z_PARAM_OPTIONAL
        Z_PARAM_BOOL(all_forms)
    ZEND_PARSE_PARAMETERS_END();

    std::vector<std::pair<std::string, std::string>> list;
    std::string cache_key(1, all_forms ? 'f' : 'l');  // the pairs, each part length-prefixed
    auto add_key = [&](const char* d, size_t n) {
        cache_key.append(reinterpret_cast<const char*>(&n), sizeof n);
        cache_key.append(d, n);
    };
    // PHP stores a key written as a decimal number ('8081' => '8082') as an integer: such keys are searched
    // for as their digits. A list (['old', 'new'], keys 0, 1, ...) is a mistake, not a map.
    if (zend_hash_num_elements(pairs) > 0 && zend_array_is_list(pairs)) {
        zend_argument_value_error(2, "must map search strings to replacements, not be a list");
        RETURN_THROWS();
    }
    zend_string* key;
    zend_ulong index;
    zval* replacement;
    ZEND_HASH_FOREACH_KEY_VAL(pairs, index, key, replacement) {
        ZVAL_DEREF(replacement);
        std::string search = key ? std::string(ZSTR_VAL(key), ZSTR_LEN(key))
                                 : std::to_string(static_cast<zend_long>(index));
        if (search.empty()) {
            zend_argument_value_error(2, "must not contain an empty search string");
            RETURN_THROWS();
        }
        if (Z_TYPE_P(replacement) != IS_STRING) {
            zend_argument_type_error(2, "must contain only string replacements");
            RETURN_THROWS();
        }
        add_key(search.data(), search.size());
        add_key(Z_STRVAL_P(replacement), Z_STRLEN_P(replacement));
        list.emplace_back(std::move(search), std::string(Z_STRVAL_P(replacement), Z_STRLEN_P(replacement)));
    }
    ZEND_HASH_FOREACH_END();

    guarded([&](bool&) {
        // Building a rewriter costs more than rewriting a short value: reuse the last one for the same pairs.
        auto* cached = static_cast<RewriteCache*>(SITELIFT_G(rewrite_cache));
        if (!cached || cached->key != cache_key) {
            auto built = std::make_unique<RewriteCache>(RewriteCache{
                std::move(cache_key),
                all_forms ? sitelift::Rewriter::with_all_forms(std::move(list)) : sitelift::Rewriter(std::move(list))});
            delete cached;
            SITELIFT_G(rewrite_cache) = cached = built.release();
        }
        const sitelift::Rewriter& rewriter = cached->rewriter;
        std::string out;
        if (rewriter.rewrite(std::string_view(ZSTR_VAL(value), ZSTR_LEN(value)), out)) {
            RETVAL_STRINGL(out.data(), out.size());
        } else {
            RETVAL_STR_COPY(value);
        }
    });
}

namespace {

sitelift::ReceiveSite read_receive_site(const Options& o) {
    sitelift::ReceiveSite site;
    site.target = read_target(o);
    site.url = o.str("url");
    site.keep = o.strings("keep");
    zval* limits = o.find("limits");
    if (limits) {
        if (Z_TYPE_P(limits) != IS_ARRAY) throw OptionError{"option \"limits\" must be an array", true};
        zval* v;
        zend_string* key;
        site.limits = nlohmann::json::object();
        ZEND_HASH_FOREACH_STR_KEY_VAL(Z_ARRVAL_P(limits), key, v) {
            if (!key) continue;
            ZVAL_DEREF(v);
            std::string k(ZSTR_VAL(key), ZSTR_LEN(key));
            if (Z_TYPE_P(v) == IS_LONG) site.limits[k] = static_cast<int64_t>(Z_LVAL_P(v));
            else if (Z_TYPE_P(v) == IS_STRING) site.limits[k] = std::string(Z_STRVAL_P(v), Z_STRLEN_P(v));
            else if (Z_TYPE_P(v) == IS_TRUE || Z_TYPE_P(v) == IS_FALSE) site.limits[k] = Z_TYPE_P(v) == IS_TRUE;
        }
        ZEND_HASH_FOREACH_END();
    }
    return site;
}

sitelift::PushOptions read_push_options(const Options& o) {
    sitelift::PushOptions po;
    po.root = o.str("path", true);
    po.db = o.db();
    po.table_prefix = o.str("table_prefix", false, "wp_");
    po.token = o.str("token", true);
    po.site_name = o.str("site_name", true);
    po.excludes = o.strings("exclude");
    po.default_excludes = o.flag("default_excludes", true);
    po.all_tables = o.flag("all_tables", false);
    po.wp_version = o.str("wp_version");
    po.php_version = PHP_VERSION;
    po.charset = o.str("charset");
    po.collate = o.str("collate");
    po.multisite = o.flag("multisite", false);
    po.restart = o.flag("restart", false);
    po.max_part_bytes = static_cast<uint64_t>(o.integer("max_part_bytes", 0, 0, 1L << 30));
    return po;
}

const std::vector<const char*> kPushKeys = {"path", "db", "table_prefix", "token", "site_name", "exclude",
                                            "default_excludes", "all_tables", "wp_version", "charset", "collate",
                                            "multisite", "restart", "max_part_bytes", "progress"};

}  // namespace

ZEND_FUNCTION(SiteLift_token_create) {
    HashTable *site, *opts;
    ZEND_PARSE_PARAMETERS_START(2, 2)
        Z_PARAM_ARRAY_HT(site)
        Z_PARAM_ARRAY_HT(opts)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool&) {
        sitelift::SiteTarget target = read_site_only(site);
        Options o(opts, {"url", "site_name", "ttl"});
        return_json(return_value, sitelift::token_create(target, o.str("url", true), o.str("site_name", true),
                                                         o.integer("ttl", 86400, 60, 30L * 86400)));
    });
}

ZEND_FUNCTION(SiteLift_token_revoke) {
    HashTable* site;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(site)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool&) {
        sitelift::token_revoke(read_site_only(site));
    });
}

ZEND_FUNCTION(SiteLift_token_info) {
    HashTable* site;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(site)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool&) {
        return_json(return_value, sitelift::token_info(read_site_only(site)));
    });
}

namespace {

sitelift::ReceiveRequest read_request(zend_string* method, zend_string* target, HashTable* headers, zend_string* body) {
    sitelift::ReceiveRequest req;
    req.method.assign(ZSTR_VAL(method), ZSTR_LEN(method));
    req.target.assign(ZSTR_VAL(target), ZSTR_LEN(target));
    if (body) req.body_view = std::string_view(ZSTR_VAL(body), ZSTR_LEN(body));  // PHP's string outlives the call
    zend_string* key;
    zval* v;
    ZEND_HASH_FOREACH_STR_KEY_VAL(headers, key, v) {
        ZVAL_DEREF(v);
        if (!key) continue;
        if (Z_TYPE_P(v) == IS_ARRAY) v = zend_hash_index_find(Z_ARRVAL_P(v), 0);  // WP_REST_Request::get_headers()
        if (!v || Z_TYPE_P(v) != IS_STRING) continue;
        std::string name(ZSTR_VAL(key), ZSTR_LEN(key));
        for (char& c : name) c = (c == '_') ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers[name] = std::string(Z_STRVAL_P(v), Z_STRLEN_P(v));
    }
    ZEND_HASH_FOREACH_END();
    return req;
}

// Reads a request body stream (php://input) to its end into the engine's buffer, where a part is then
// decrypted in place: no PHP string of the body is made. The SAPI's Content-Length, when there is one, sizes
// the buffer up front, so it is not regrown (and briefly held twice) on the way. Zend code runs here (a
// userspace stream may run PHP), so a bailout is caught, the buffer freed, and the bailout passed on; C++
// exceptions are kept inside the zend_try. False when the argument is not a stream.
//
// php://input that nobody has read yet (a PUT body is not read at request startup) is read from the server
// API directly: through the stream, every block would also be written to php://input's temporary stream,
// which spills a body over 16 KB to a file in upload_tmp_dir, and read back from it; for a push that is the
// whole site written to and read from a temporary file once more.
bool unread_request_body(const php_stream* stream) {
    return stream->wrapper == &php_stream_php_wrapper && stream->orig_path &&
           strcasecmp(stream->orig_path, "php://input") == 0 && sapi_module.read_post && SG(read_post_bytes) == 0 &&
           !SG(post_read);
}

bool read_body_stream(zval* arg, std::string& out, std::string& sha256) {
    php_stream* stream = nullptr;
    php_stream_from_zval_no_verify(stream, arg);
    if (!stream) {
        zend_argument_type_error(5, "must be of type string or a stream resource, %s given", zend_zval_type_name(arg));
        return false;
    }
    const int64_t hint = SG(request_info).content_length;
    std::optional<sitelift::Sha256> hash;  // block by block, as they arrive (see ReceiveRequest::body_sha256)
    bool bailed = false, no_memory = false;
    zend_try {
        try {
            hash.emplace();
            if (hint > 0 && hint <= (int64_t(1) << 30)) sitelift::reserve_large(out, static_cast<size_t>(hint));
            constexpr size_t kStep = 256u << 10;
            const bool direct = unread_request_body(stream);
            for (;;) {
                const size_t at = out.size();
                out.resize(at + kStep);
                size_t n = 0;
                if (direct) {
                    n = sapi_read_post_block(&out[at], kStep);
                } else {
                    const ssize_t got = php_stream_read(stream, &out[at], kStep);
                    n = got > 0 ? static_cast<size_t>(got) : 0;
                }
                out.resize(at + n);
                hash->update(out.data() + at, n);
                if (n == 0 || (direct && hint > 0 && out.size() >= static_cast<uint64_t>(hint))) break;
            }
            sha256 = hash->hex_digest();
        } catch (...) {
            no_memory = true;
        }
    } zend_catch {
        bailed = true;
    } zend_end_try();
    hash.reset();  // zend_bailout() below skips this frame's destructors
    if (bailed || no_memory) std::string().swap(out);
    if (bailed) zend_bailout();
    if (no_memory) {
        zend_throw_exception(ce_exception, "SiteLift ran out of memory reading the request body", 0);
        return false;
    }
    return true;
}

void return_response(zval* return_value, const sitelift::ReceiveResponse& r) {
    array_init(return_value);
    add_assoc_long(return_value, "status", r.status);
    zval bodyv;
    return_json(&bodyv, r.body);
    add_assoc_zval(return_value, "body", &bodyv);
}

}  // namespace

ZEND_FUNCTION(SiteLift_receive) {
    HashTable *site, *headers;
    zend_string *method, *target;
    zval* body;
    ZEND_PARSE_PARAMETERS_START(5, 5)
        Z_PARAM_ARRAY_HT(site)
        Z_PARAM_STR(method)
        Z_PARAM_STR(target)
        Z_PARAM_ARRAY_HT(headers)
        Z_PARAM_ZVAL(body)
    ZEND_PARSE_PARAMETERS_END();
    std::string owned, owned_sha256;
    if (Z_TYPE_P(body) == IS_RESOURCE) {
        if (!read_body_stream(body, owned, owned_sha256)) RETURN_THROWS();
    } else if (Z_TYPE_P(body) != IS_STRING) {
        zend_argument_type_error(5, "must be of type string or a stream resource, %s given", zend_zval_type_name(body));
        RETURN_THROWS();
    }
    guarded([&](bool&) {
        Options s(site, {"path", "db", "table_prefix", "url", "limits", "keep"});
        sitelift::ReceiveRequest req =
            read_request(method, target, headers, Z_TYPE_P(body) == IS_STRING ? Z_STR_P(body) : nullptr);
        if (Z_TYPE_P(body) != IS_STRING) {
            req.body.swap(owned);
            req.body_sha256.swap(owned_sha256);
        }
        return_response(return_value, sitelift::receive_request(read_receive_site(s), std::move(req)));
    });
}

ZEND_FUNCTION(SiteLift_receive_authenticate) {
    HashTable *site, *headers;
    zend_string *method, *target, *body;
    ZEND_PARSE_PARAMETERS_START(5, 5)
        Z_PARAM_ARRAY_HT(site)
        Z_PARAM_STR(method)
        Z_PARAM_STR(target)
        Z_PARAM_ARRAY_HT(headers)
        Z_PARAM_STR(body)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool&) {
        Options s(site, {"path", "db", "table_prefix", "url", "limits", "keep"});
        auto refused =
            sitelift::receive_authenticate(read_receive_site(s), read_request(method, target, headers, body));
        if (refused)
            return_response(return_value, *refused);
        else
            RETVAL_NULL();
    });
}

ZEND_FUNCTION(SiteLift_push) {
    HashTable* ht;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(ht)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool& bailed) {
        Options o(ht, kPushKeys);
        sitelift::PushOptions po = read_push_options(o);
        Callback cb;
        read_callback(o, "progress", cb);
        po.progress = progress_fn(cb, bailed);
        return_json(return_value, sitelift::push_run(po));
    });
}

ZEND_FUNCTION(SiteLift_push_step) {
    HashTable* ht;
    double seconds = 20.0;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_ARRAY_HT(ht)
        Z_PARAM_OPTIONAL
        Z_PARAM_DOUBLE(seconds)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool&) {
        Options o(ht, kPushKeys);
        if (o.find("progress")) throw OptionError{"option \"progress\" is for push() only", false};
        return_json(return_value, sitelift::push_step(read_push_options(o), std::clamp(seconds, 0.0, 3600.0)));
    });
}

ZEND_FUNCTION(SiteLift_push_status) {
    zend_string* path;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_PATH_STR(path)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool&) { return_json(return_value, sitelift::push_state(std::string(ZSTR_VAL(path), ZSTR_LEN(path)))); });
}

ZEND_FUNCTION(SiteLift_push_cancel) {
    zend_string* path;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_PATH_STR(path)
    ZEND_PARSE_PARAMETERS_END();
    guarded([&](bool&) { sitelift::push_cancel(std::string(ZSTR_VAL(path), ZSTR_LEN(path))); });
}

namespace {

#if PHP_VERSION_ID >= 80200
// gen_stub's generated lookup of namespaced functions is broken, so the attribute is added here.
void mark_sensitive(const char* lcname) {
    auto* fn = static_cast<zend_function*>(zend_hash_str_find_ptr(CG(function_table), lcname, std::strlen(lcname)));
    if (fn) zend_add_parameter_attribute(fn, 0, ZSTR_KNOWN(ZEND_STR_SENSITIVEPARAMETER), 0);
}
#endif

}  // namespace

PHP_MINIT_FUNCTION(sitelift) {
    // Nothing here may start a thread or initialise a library that might: PHP-FPM forks after MINIT.
    ce_exception = register_class_SiteLift_Exception(spl_ce_RuntimeException);
    ce_usage = register_class_SiteLift_UsageException(ce_exception);
    ce_io = register_class_SiteLift_IoException(ce_exception);
    ce_archive = register_class_SiteLift_ArchiveException(ce_exception);
    ce_integrity = register_class_SiteLift_IntegrityException(ce_exception);
    ce_security = register_class_SiteLift_SecurityException(ce_exception);
    ce_database = register_class_SiteLift_DatabaseException(ce_exception);
    ce_state = register_class_SiteLift_StateException(ce_exception);
#if PHP_VERSION_ID >= 80200
    mark_sensitive("sitelift\\export");
    mark_sensitive("sitelift\\import");
    mark_sensitive("sitelift\\rollback");
    mark_sensitive("sitelift\\cleanup");
    for (const char* f : {"sitelift\\token_create", "sitelift\\token_revoke", "sitelift\\token_info",
                          "sitelift\\receive", "sitelift\\receive_authenticate", "sitelift\\push", "sitelift\\push_step"})
        mark_sensitive(f);
#endif
    return SUCCESS;
}

PHP_RINIT_FUNCTION(sitelift) {
#if defined(ZTS) && defined(COMPILE_DL_SITELIFT)
    ZEND_TSRMLS_CACHE_UPDATE();
#endif
    return SUCCESS;
}

PHP_RSHUTDOWN_FUNCTION(sitelift) {
    delete static_cast<RewriteCache*>(SITELIFT_G(rewrite_cache));
    SITELIFT_G(rewrite_cache) = nullptr;
    return SUCCESS;
}

static PHP_GINIT_FUNCTION(sitelift) {
#if defined(ZTS) && defined(COMPILE_DL_SITELIFT)
    ZEND_TSRMLS_CACHE_UPDATE();
#endif
    sitelift_globals->rewrite_cache = nullptr;
}

PHP_MINFO_FUNCTION(sitelift) {
    php_info_print_table_start();
    php_info_print_table_row(2, "SiteLift support", "enabled");
    php_info_print_table_row(2, "Version", SITELIFT_VERSION);
    php_info_print_table_row(2, "Archive format", ZEND_TOSTR(SITELIFT_ARCHIVE_FORMAT));
    php_info_print_table_end();
}

zend_module_entry sitelift_module_entry = {
    STANDARD_MODULE_HEADER,
    "sitelift",
    ext_functions,
    PHP_MINIT(sitelift),
    nullptr,
    PHP_RINIT(sitelift),
    PHP_RSHUTDOWN(sitelift),
    PHP_MINFO(sitelift),
    SITELIFT_VERSION,
    PHP_MODULE_GLOBALS(sitelift),
    PHP_GINIT(sitelift),
    nullptr,
    nullptr,
    STANDARD_MODULE_PROPERTIES_EX,
};

#ifdef COMPILE_DL_SITELIFT
#if defined(ZTS)
ZEND_TSRMLS_CACHE_DEFINE()
#endif
extern "C" {
ZEND_GET_MODULE(sitelift)
}
#endif
