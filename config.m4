dnl SiteLift PHP extension: `phpize && ./configure && make` at the repository root builds modules/sitelift.so.
dnl The C++ core in ext/core is compiled straight into the module; ext/php is the Zend binding.

PHP_ARG_ENABLE([sitelift],
  [whether to enable SiteLift],
  [AS_HELP_STRING([--enable-sitelift], [Enable SiteLift site migration support])],
  [yes])

if test "$PHP_SITELIFT" != "no"; then
  PHP_REQUIRE_CXX()
  PHP_CXX_COMPILE_STDCXX(17, mandatory, SITELIFT_STDCXX)

  PKG_CHECK_MODULES([ARCHIVE], [libarchive >= 3.4])
  PKG_CHECK_MODULES([MARIADB], [libmariadb >= 3.1])
  PKG_CHECK_MODULES([CRYPTO], [libcrypto >= 1.1.1])
  PKG_CHECK_MODULES([CURL], [libcurl >= 7.68])

  AC_MSG_CHECKING([for nlohmann/json.hpp])
  if test -f /usr/include/nlohmann/json.hpp || test -f /usr/local/include/nlohmann/json.hpp; then
    AC_MSG_RESULT([yes])
  else
    AC_MSG_ERROR([nlohmann/json.hpp not found; install nlohmann-json3-dev])
  fi

  PHP_EVAL_INCLINE($ARCHIVE_CFLAGS)
  PHP_EVAL_INCLINE($MARIADB_CFLAGS)
  PHP_EVAL_INCLINE($CRYPTO_CFLAGS)
  PHP_EVAL_INCLINE($CURL_CFLAGS)
  PHP_EVAL_LIBLINE($ARCHIVE_LIBS, SITELIFT_SHARED_LIBADD)
  PHP_EVAL_LIBLINE($MARIADB_LIBS, SITELIFT_SHARED_LIBADD)
  PHP_EVAL_LIBLINE($CRYPTO_LIBS, SITELIFT_SHARED_LIBADD)
  PHP_EVAL_LIBLINE($CURL_LIBS, SITELIFT_SHARED_LIBADD)
  PHP_ADD_LIBRARY(pthread, 1, SITELIFT_SHARED_LIBADD)
  PHP_ADD_LIBRARY(stdc++, 1, SITELIFT_SHARED_LIBADD)
  PHP_SUBST(SITELIFT_SHARED_LIBADD)

  sitelift_core_sources="
    ext/core/archive_reader.cpp
    ext/core/archive_writer.cpp
    ext/core/crypto.cpp
    ext/core/db.cpp
    ext/core/error.cpp
    ext/core/export.cpp
    ext/core/import.cpp
    ext/core/manifest.cpp
    ext/core/path_safety.cpp
    ext/core/push.cpp
    ext/core/receive.cpp
    ext/core/rewrite.cpp
    ext/core/scan.cpp
    ext/core/sha256.cpp
    ext/core/sql_dump.cpp
    ext/core/sql_literal.cpp
    ext/core/sql_load.cpp
    ext/core/sql_parse.cpp
    ext/core/workdir.cpp
  "
  sitelift_binding_sources="ext/php/sitelift.cpp"

  PHP_NEW_EXTENSION(sitelift, $sitelift_binding_sources $sitelift_core_sources, $ext_shared,,
    [-DZEND_ENABLE_STATIC_TSRMLS_CACHE=1 $SITELIFT_STDCXX -I@ext_srcdir@/ext/core], cxx)
  PHP_ADD_BUILD_DIR([$ext_builddir/ext/core])
  PHP_ADD_BUILD_DIR([$ext_builddir/ext/php])
fi
