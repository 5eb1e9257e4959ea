// Runs the current thread under the "C" locale while it lives. libarchive converts entry names through the
// current locale, and only the C locale leaves every byte as it is (see archive_writer.cpp).
#pragma once

#include <locale.h>

namespace sitelift {

class CLocaleScope {
public:
    CLocaleScope() {
        static const locale_t c = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
        if (c != static_cast<locale_t>(nullptr)) previous_ = uselocale(c);
    }
    ~CLocaleScope() {
        if (previous_ != static_cast<locale_t>(nullptr)) uselocale(previous_);
    }
    CLocaleScope(const CLocaleScope&) = delete;
    CLocaleScope& operator=(const CLocaleScope&) = delete;

private:
    locale_t previous_ = static_cast<locale_t>(nullptr);
};

}  // namespace sitelift
