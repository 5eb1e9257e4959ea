<?php
// Differential test of SiteLift\rewrite() against a PHP reference.
//
//   php -d extension=$PWD/modules/sitelift.so tests/ext/rewrite_differential.php [--cases=N] [--seed=S] [--verbose]
//
// Generates random nested PHP values (fixed seed): arrays with int and string keys, stdClass, a class
// with private and protected properties (and a subclass with a private property of the same name),
// objects of a class that does not exist when the data is read back, enums, references (R: and r:),
// floats, booleans, nulls, multibyte and binary-looking strings, URLs in every form the rewriter knows
// next to boundary near-misses, WPBakery and Avada base64 blocks, and serialized data inside strings (to 3 levels).
//
// Each value is serialized and given to SiteLift\rewrite($s, $pairs). The reference does what a careful
// PHP search-replace would: unserialize, replace inside every string VALUE and every string ARRAY KEY
// (rebuilding each array with its new keys; never object property names, class or enum names)
// recursively, applying the same treatment to strings that are themselves serialized data (when PHP
// round-trips them), serialize. When the new keys of an array collide (PHP's array would keep fewer
// entries) or a new key is an integer string (PHP would make it an integer key), the serialized text that
// holds the array is left as it was (ext/core/rewrite.hpp, ARRAY KEY COLLISIONS). Results must be
// byte-for-byte equal. Cases where PHP itself does not round-trip serialize(unserialize($s)) === $s are
// skipped and counted. The generator keys arrays by URLs, near-misses and replacement results often.
//
// The reference's replacement inside a plain string is an independent PHP implementation of the rule
// documented in ext/core/rewrite.hpp (boundaries, leftmost-longest, unsafe length-prefixed text,
// vc_raw_html/vc_raw_js blocks), not a call to SiteLift\rewrite: so the test checks the matcher too, not
// only the serialization handling. Plain (non-serialized) strings and corrupted serialized data are also
// compared directly.
//
// Exit code 0 when every case agrees, 1 otherwise; the last line reads "N passed, M failed (K skipped: ...)".

declare(strict_types=1);

error_reporting(E_ALL);
ini_set('display_errors', 'stderr');

if (!function_exists('SiteLift\\rewrite')) {
    fwrite(STDERR, "SiteLift\\rewrite() is not available: run with -d extension=/path/to/modules/sitelift.so\n");
    exit(1);
}

$opts = getopt('', ['cases:', 'seed:', 'verbose']);
$CASES = isset($opts['cases']) ? max(1, (int)$opts['cases']) : 6000;
$SEED = isset($opts['seed']) ? (int)$opts['seed'] : 20240611;
$VERBOSE = isset($opts['verbose']);

// ------------------------------------------------------------------------------------------------
// Classes used by the generated data.

class Sl_Widget
{
    private $url;
    protected $link;
    public $title;
    private $extra;

    public function __construct($url, $link, $title, $extra)
    {
        $this->url = $url;
        $this->link = $link;
        $this->title = $title;
        $this->extra = $extra;
    }
}

class Sl_Child_Widget extends Sl_Widget
{
    private $url;  // same name as the parent's private property: both are serialized

    public function __construct($own, $url, $link, $title, $extra)
    {
        parent::__construct($url, $link, $title, $extra);
        $this->url = $own;
    }
}

// Serialized under this name, then renamed to Sl_Gone_Thing1 (same length): a class the reader lacks.
#[AllowDynamicProperties]
class Sl_Proto_Thing
{
    private $secret;
    protected $home;
    public $list;

    public function __construct($secret, $home, $list)
    {
        $this->secret = $secret;
        $this->home = $home;
        $this->list = $list;
    }
}

enum Sl_Suit: string
{
    case Hearts = 'H';
    case Spades = 'S';
}

// Classes missing when data is unserialized (Sl_Gone_Thing1) are declared empty on the fly, so that the
// reference can walk their properties; SiteLift never looks at class names at all.
function sl_define_missing_class(string $name): void
{
    if (preg_match('/^Sl_Gone_[A-Za-z0-9_]+$/D', $name) && !class_exists($name, false)) {
        eval('#[AllowDynamicProperties] class ' . $name . ' {}');
    }
}
ini_set('unserialize_callback_func', 'sl_define_missing_class');

// ------------------------------------------------------------------------------------------------
// The reference: plain-text rule (mirrors the documentation in ext/core/rewrite.hpp).

const SL_MARKERS = ['[vc_raw_', '[fusion_code'];  // encoded blocks start so
const SL_MAX_TEXT_NESTING = 64;

function sl_alnumish(int $c): bool
{
    return ($c >= 48 && $c <= 57) || ($c >= 65 && $c <= 90) || ($c >= 97 && $c <= 122) || $c >= 0x80;
}
function sl_joiner(int $c): bool
{
    return $c === 45 || $c === 46 || $c === 95;  // - . _
}
function sl_word(int $c): bool
{
    return sl_alnumish($c) || sl_joiner($c);
}
function sl_hex(string $s): bool
{
    return $s !== '' && strspn($s, '0123456789abcdefABCDEF') === strlen($s);
}

/** Logical char at $i: [code, width]; %HH and \uHHHH decode (non-ASCII code points as 0x80). */
function sl_char_at(string $t, int $i): array
{
    $n = strlen($t);
    if ($i >= $n) {
        return [-1, 0];
    }
    if ($t[$i] === '%' && $i + 2 < $n && sl_hex(substr($t, $i + 1, 2))) {
        return [hexdec(substr($t, $i + 1, 2)), 3];
    }
    if ($t[$i] === '\\' && $i + 5 < $n && $t[$i + 1] === 'u' && sl_hex(substr($t, $i + 2, 4))) {
        $v = hexdec(substr($t, $i + 2, 4));
        return [$v < 0x80 ? $v : 0x80, 6];
    }
    return [ord($t[$i]), 1];
}

function sl_char_before(string $t, int $i): int
{
    if ($i === 0) {
        return -1;
    }
    if ($i >= 3 && $t[$i - 3] === '%' && sl_hex(substr($t, $i - 2, 2))) {
        return hexdec(substr($t, $i - 2, 2));
    }
    if ($i >= 6 && $t[$i - 6] === '\\' && $t[$i - 5] === 'u' && sl_hex(substr($t, $i - 4, 4))) {
        $v = hexdec(substr($t, $i - 4, 4));
        return $v < 0x80 ? $v : 0x80;
    }
    return ord($t[$i - 1]);
}

function sl_continues_right(string $t, int $i): bool
{
    [$c, $w] = sl_char_at($t, $i);
    if ($c < 0) {
        return false;
    }
    if (sl_alnumish($c)) {
        return true;
    }
    if (sl_joiner($c)) {
        $j = $i + $w;
        [$d, $dw] = sl_char_at($t, $j);
        while ($d >= 0 && sl_joiner($d)) {
            $j += $dw;
            [$d, $dw] = sl_char_at($t, $j);
        }
        return $d >= 0 && sl_alnumish($d);
    }
    if ($c === 58) {  // ':' then a digit: a port
        $d = sl_char_at($t, $i + $w)[0];
        return $d >= 48 && $d <= 57;
    }
    return false;
}

/** Prepared patterns: [search, replace, left ('none'|'word'|'pr'), right_check, noop], longest first. */
function sl_prepare(array $pairs): array
{
    $pats = [];
    foreach ($pairs as $s => $r) {
        $s = (string)$s;
        $first = function (string $s, int $i): array {
            // "\/" and the nested "\\/", "\\\/": a run of backslashes before '/' is a slash.
            $j = $i + strspn($s, '\\', $i);
            if ($j > $i && $j < strlen($s) && $s[$j] === '/') {
                return [47, $j + 1 - $i];
            }
            return sl_char_at($s, $i);
        };
        [$c0, $w0] = $first($s, 0);
        $left = 'none';
        if ($c0 >= 0 && sl_word($c0)) {
            $left = 'word';
        } elseif ($c0 === 47 && $first($s, $w0)[0] === 47) {
            $left = 'pr';
        }
        $n = strlen($s);
        $last = ($n >= 2 && substr($s, -2) === '\\/') ? 47 : sl_char_before($s, $n);
        $pats[] = [$s, (string)$r, $left, $last >= 0 && sl_word($last), $s === (string)$r];
    }
    usort($pats, fn($a, $b) => strlen($b[0]) <=> strlen($a[0]));
    return $pats;
}

function sl_boundaries_ok(array $p, string $t, int $s): bool
{
    if ($p[2] !== 'none') {
        $b = sl_char_before($t, $s);
        if ($b >= 0 && (sl_word($b) || ($p[2] === 'pr' && $b === 47))) {
            return false;
        }
    }
    if ($p[3] && sl_continues_right($t, $s + strlen($p[0]))) {
        return false;
    }
    return true;
}

/** Zones of text that look like length-prefixed serialized strings: s:N:" or s:N:\" (also S:). */
function sl_unsafe_checker(string $t): callable
{
    $trim = ltrim($t, " \t\n\r\0\x0B");
    $starts_like = strlen($trim) >= 2 && (($trim[0] === 'N' && $trim[1] === ';') ||
        (strpos('aOCsSEidbrR', $trim[0]) !== false && $trim[1] === ':'));
    $zones = [];
    $n = strlen($t);
    for ($i = 0; $i + 1 < $n; $i++) {
        if ($t[$i + 1] !== ':' || ($t[$i] !== 's' && $t[$i] !== 'S')) {
            continue;
        }
        if (!preg_match('/\G(\d{1,19}):(\\\\?)"/', $t, $m, 0, $i + 2)) {
            continue;
        }
        $len = (int)$m[1];
        $q = $i + 2 + strlen($m[0]);
        $reach = $m[2] === '' ? $len : $len * 6;
        $zones[] = [$q, $reach > $n ? $n + 1 : $q + $reach];
    }
    return function (int $m) use ($zones, $starts_like): bool {
        foreach ($zones as [$q, $end]) {
            if ($q <= $m && ($starts_like || $m < $end)) {
                return true;
            }
        }
        return false;
    };
}

/** Replaces in plain text. Returns [text, unsafe]. */
function sl_ref_plain(string $t, array $pats, bool $markers = true): array
{
    $n = strlen($t);
    $out = '';
    $pos = 0;
    $copied = 0;
    $unsafe_at = null;
    $unsafe = false;
    while ($pos < $n) {
        // Next position where some search (or the marker) occurs literally.
        $next = PHP_INT_MAX;
        foreach ($pats as $p) {
            $k = strpos($t, $p[0], $pos);
            if ($k !== false && $k < $next) {
                $next = $k;
            }
        }
        if ($markers) {
            foreach (SL_MARKERS as $marker) {
                $k = strpos($t, $marker, $pos);
                if ($k !== false && $k < $next) {
                    $next = $k;
                }
            }
        }
        if ($next === PHP_INT_MAX) {
            break;
        }
        $hit = null;
        $marker = null;
        foreach ($markers ? SL_MARKERS : [] as $m) {
            if (substr_compare($t, $m, $next, strlen($m)) === 0) {
                $marker = $m;
            }
        }
        if ($marker !== null) {
            $hit = 'marker';
        } else {
            foreach ($pats as $p) {
                if (substr_compare($t, $p[0], $next, strlen($p[0])) === 0 && sl_boundaries_ok($p, $t, $next)) {
                    $hit = $p;
                    break;
                }
            }
        }
        if ($hit === null) {
            $pos = $next + 1;
            continue;
        }
        $unsafe_at ??= sl_unsafe_checker($t);
        if ($unsafe_at($next)) {
            return [$t, true];
        }
        if ($hit === 'marker') {
            [$covered, $replacement, $u] = sl_ref_vc($t, $next, $pats);
            $unsafe = $unsafe || $u;
            if ($covered === 0) {
                $pos = $next + strlen($marker);
                continue;
            }
            if ($replacement !== null) {
                [$cs, $clen, $enc] = $replacement;
                $out .= substr($t, $copied, $cs - $copied) . $enc;
                $copied = $cs + $clen;
            }
            $pos = $next + $covered;
            continue;
        }
        if (!$hit[4]) {
            $out .= substr($t, $copied, $next - $copied) . $hit[1];
            $copied = $next + strlen($hit[0]);
        }
        $pos = $next + strlen($hit[0]);
    }
    return [$copied === 0 ? $t : $out . substr($t, $copied), $unsafe];
}

/** Decoded text rewritten as plain text: [new text or null when unchanged, unsafe]. */
function sl_ref_block_text(string $text, array $pats): array
{
    [$new, $unsafe] = sl_ref_plain($text, $pats, false);
    return [$new === $text ? null : $new, $unsafe];
}

/** Is $s canonical base64? Sets $decoded. */
function sl_b64(string $s, &$decoded): bool
{
    $decoded = base64_decode($s, true);
    return $s !== '' && $decoded !== false && base64_encode($decoded) === $s;
}

/**
 * An encoded block at $s (rewrite.hpp, ENCODED BLOCKS): [covered bytes (0: not a block), [content start, length,
 * new content]|null, unsafe].
 */
function sl_ref_vc(string $t, int $s, array $pats): array
{
    foreach (['vc_raw_html' => true, 'vc_raw_js' => true, 'fusion_code' => false] as $tag => $urlencoded) {
        if (substr_compare($t, $tag, $s + 1, strlen($tag)) !== 0) {
            continue;
        }
        $i = $s + 1 + strlen($tag);
        if ($i >= strlen($t)) {
            return [0, null, false];
        }
        if ($t[$i] !== ']' && $t[$i] !== ' ' && $t[$i] !== "\t") {
            continue;
        }
        $close_open = strpos($t, ']', $i);
        if ($close_open === false) {
            return [0, null, false];
        }
        $bracket = strpos($t, '[', $i);
        if ($bracket !== false && $bracket < $close_open) {
            return [0, null, false];
        }
        $cs = $close_open + 1;
        $closing = '[/' . $tag . ']';
        $ce = strpos($t, $closing, $cs);
        if ($ce === false) {
            return [0, null, false];
        }
        $covered = $ce + strlen($closing) - $s;
        $content = substr($t, $cs, $ce - $cs);
        if (!sl_b64($content, $decoded)) {
            return [$urlencoded ? $covered : 0, null, false];  // Avada's code kept as it is: plain text
        }
        $html = $urlencoded ? rawurldecode($decoded) : $decoded;
        if ($urlencoded && rawurlencode($html) !== $decoded) {
            return [$covered, null, false];
        }
        [$new, $unsafe] = sl_ref_block_text($html, $pats);
        if ($new === null) {
            return [$covered, null, $unsafe];
        }
        return [$covered, [$cs, strlen($content), base64_encode($urlencoded ? rawurlencode($new) : $new)], $unsafe];
    }
    return [0, null, false];
}

// ------------------------------------------------------------------------------------------------
// The reference: serialized data.

/** Is $s serialized data that PHP round-trips? Sets $value to the unserialized value. */
function sl_php_serialized(string $s, &$value): bool
{
    if ($s === '' || strpos('aOCsEidbrRN', $s[0]) === false) {
        return false;
    }
    $v = @unserialize($s);
    if ($v === false && $s !== 'b:0;') {
        return false;
    }
    if (serialize($v) !== $s) {
        return false;
    }
    $value = $v;
    return true;
}

/** Thrown when the rewritten keys of an array collide or become integers: its serialized text stays as it was. */
final class SlKeyCollision extends Exception
{
}

$SL_STATS = ['keys_changed' => 0, 'key_collisions' => 0];

/** A string value: serialized data is walked (to SL_MAX_TEXT_NESTING levels), anything else is plain. */
function sl_ref_text(string $s, array $pats, int $depth): string
{
    global $SL_STATS;
    if ($depth < SL_MAX_TEXT_NESTING && sl_php_serialized($s, $v)) {
        $seen = new SplObjectStorage();
        $refs = [];
        try {
            sl_walk($v, $pats, $depth, $seen, $refs);
        } catch (SlKeyCollision $e) {
            $SL_STATS['key_collisions']++;
            return $s;
        }
        return serialize($v);
    }
    return sl_ref_plain($s, $pats)[0];
}

/** Rebuilds the array $v with every string key rewritten (elements that are PHP references stay references). */
function sl_rekey(array &$v, array $pats, int $depth): void
{
    global $SL_STATS;
    $new_keys = [];
    $any = false;
    foreach (array_keys($v) as $k) {
        if (is_string($k)) {
            $nk = sl_ref_text($k, $pats, $depth + 1);
            if ($nk !== $k) {
                $any = true;
                if (preg_match('/^-?[0-9]+$/D', $nk)) {
                    throw new SlKeyCollision();  // PHP would make it an integer key
                }
            }
            $new_keys[] = $nk;
        } else {
            $new_keys[] = $k;
        }
    }
    if (!$any) {
        return;
    }
    $SL_STATS['keys_changed']++;
    $new = [];
    $i = 0;
    foreach (array_keys($v) as $k) {
        if (ReflectionReference::fromArrayElement($v, $k) !== null) {
            $new[$new_keys[$i]] = &$v[$k];
        } else {
            $new[$new_keys[$i]] = $v[$k];
        }
        $i++;
    }
    if (count($new) !== count($v)) {
        throw new SlKeyCollision();  // two keys became one
    }
    $v = $new;
}

function sl_walk(&$v, array $pats, int $depth, SplObjectStorage $seen, array &$refs): void
{
    if (is_string($v)) {
        $v = sl_ref_text($v, $pats, $depth + 1);
    } elseif (is_array($v)) {
        foreach (array_keys($v) as $k) {
            $ref = ReflectionReference::fromArrayElement($v, $k);
            if ($ref !== null) {  // visit a PHP reference (R:) once
                if (isset($refs[$ref->getId()])) {
                    continue;
                }
                $refs[$ref->getId()] = true;
            }
            sl_walk($v[$k], $pats, $depth, $seen, $refs);
        }
        sl_rekey($v, $pats, $depth);
    } elseif (is_object($v) && !($v instanceof UnitEnum)) {
        if ($seen->contains($v)) {  // r: — the same object again
            return;
        }
        $seen->attach($v);
        if ($v instanceof stdClass) {
            foreach ($v as $name => &$prop) {
                sl_walk($prop, $pats, $depth, $seen, $refs);
            }
            return;
        }
        // Every class in the hierarchy, so that each level's private properties are reached.
        for ($class = get_class($v); $class !== false; $class = get_parent_class($class)) {
            $fn = function () use ($pats, $depth, $seen, &$refs) {
                foreach ($this as $name => &$prop) {
                    sl_walk($prop, $pats, $depth, $seen, $refs);
                }
            };
            Closure::bind($fn, $v, $class)();
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Random data.

function rnd(int $n): int
{
    return mt_rand(0, $n - 1);
}
function pick(array $a)
{
    return $a[rnd(count($a))];
}

function gen_urlish(): string
{
    $cores = [
        'https://old.example', 'http://old.example', '//old.example', 'old.example',
        'https:\\/\\/old.example', 'http:\\/\\/old.example', '\\/\\/old.example',
        'http:\\\\/\\\\/old.example', '\\\\/\\\\/old.example', 'https:\\\\\\/\\\\\\/old.example',
        '\\\\\\/\\\\\\/old.example',
        'https:\\u002F\\u002Fold.example', 'https:\\u002f\\u002fold.example', 'http:\\u002F\\u002Fold.example',
        'https%3A%2F%2Fold.example', 'https%3a%2f%2fold.example', 'http%3A%2F%2Fold.example', '%2F%2Fold.example',
        'https://old.example/wp', 'https://old.example/wp-content', 'https://old.example:8080',
        '/var/www/old', '\\/var\\/www\\/old', '/var/www/old/wp-content/uploads', '/var/www/old2',
        '/sites/7/', '/sites/7', '/sites/70/', 'wp-content/uploads',
        'https://OLD.example', 'https://www.old.example', 'notold.example', 'cdn.old.example',
    ];
    $pre = ['', '', '', ' ', '"', "'", '=', '(', 'x', '.', '-', '_', '@', '/', ':', 'not', '%3A', '%2D', '\\u002F',
        '\\u002d', "\n", "\0", "\xC3\xA9", 'href="', 'src=\\"', '\\', '\\\\/', 'a\\\\'];
    $post = ['', '', '/', '/', '"', '/path/a.jpg', '.', '..', '.au', '.example', '-cdn.net', '-', '_x', '_', ':8080', ':',
        ': ', '?q=1', '#top', '\\/', '\\/x', '%2F', '%2Fx', '%2E', '%2Eau', '%3A80', '\\u002F', '\\u002Ecom',
        '\\u0022', ' ', 'x', '9', "\xC3\xA9", "\0", '";', '}', '<br>', '&amp;'];
    return pick($pre) . pick($cores) . pick($post);
}

function gen_filler(): string
{
    switch (rnd(12)) {
        case 0:
            return pick(['Hello', 'world', 'lorem ipsum', 'WordPress', 'the quick brown fox', '']);
        case 1:
            return pick(["\u{1F680}", "\u{1F600}", "caf\u{E9}", "\u{65E5}\u{672C}\u{8A9E}", "\u{2713}", "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"]);
        case 2:  // binary-looking
            $s = '';
            for ($i = rnd(12); $i > 0; $i--) {
                $s .= chr(rnd(256));
            }
            return $s;
        case 3:  // serialized-looking fragments
            return pick(['s:5:"', '";', 'a:2:{', '}', 'i:0;', 's:19:"', 'O:8:"stdClass":1:{', 'b:1;', 'N;', ';', ':', '"', '{']);
        case 4:
            return pick(['{"url":"', '"}', '[', ']', '\\"', '\\\\', '<p>', '</p>', '<a href="', '">']);
        case 5:
            return str_repeat(pick(['a', ' ', 'xy', '-']), rnd(40));
        case 6:
            return pick(['%20', '%2F', '%3A', '\\u002F', '\\/', '&#47;', '+']);
        default:
            return gen_urlish();
    }
}

function gen_plain(int $max_parts = 8): string
{
    $s = '';
    for ($i = rnd($max_parts + 1); $i > 0; $i--) {
        $s .= rnd(3) === 0 ? gen_filler() : (rnd(2) ? gen_urlish() : gen_filler());
    }
    if (rnd(25) === 0) {  // a long value: exercises the scanner's vector loop
        $s = str_repeat('Lorem ipsum dolor sit amet, ', rnd(80)) . $s . str_repeat(' consectetur', rnd(40));
    }
    return $s;
}

function gen_vc(): string
{
    $html = gen_plain(5);
    if (rnd(5) === 0) {  // Avada's code block
        $body = rnd(3) === 0 ? $html : base64_encode($html);  // the code as it is, or base64
        $attrs = rnd(3) === 0 ? ' id="c' . rnd(9) . '"' : '';
        return "[fusion_code$attrs]$body" . (rnd(12) === 0 ? '' : '[/fusion_code]');
    }
    $tag = rnd(4) === 0 ? 'vc_raw_js' : 'vc_raw_html';
    $attrs = rnd(3) === 0 ? ' css=".vc_custom_1{margin:0}"' : '';
    switch (rnd(6)) {
        case 0:
            $body = base64_encode($html);  // not rawurlencode()d: must be left alone
            break;
        case 1:
            $body = base64_encode(strtolower(rawurlencode($html)));
            break;
        case 2:
            $body = rtrim(base64_encode(rawurlencode($html)), '=');
            break;
        default:
            $body = base64_encode(rawurlencode($html));
    }
    $closing = rnd(15) === 0 ? '' : "[/$tag]";
    return "[$tag$attrs]$body$closing";
}

function gen_string(int $depth): string
{
    $r = rnd(20);
    if ($r < 2 && $depth < 3) {
        return serialize(gen_value($depth + 1));  // serialized data inside a string
    }
    if ($r === 2) {
        return gen_vc();
    }
    if ($r === 3) {
        return gen_plain(3) . gen_vc() . gen_plain(3);
    }
    return gen_plain();
}

function gen_key(int $depth)
{
    switch (rnd(10)) {
        case 0:
        case 1:
        case 2:
            return rnd(1000) - 10;
        case 3:
        case 4:
            return gen_urlish();  // URLs, paths and their near-misses, in every form
        case 5:
        case 6:  // exactly a search, a near-miss, or what a search becomes (collisions)
            return pick(['https://old.example', 'http://old.example', '//old.example', 'old.example',
                'https://old.example/wp', 'https:\\/\\/old.example', 'https%3A%2F%2Fold.example', '/var/www/old',
                '/sites/7/', 'wp-content/uploads', 'https://old.example.au', 'https://old.example:8080',
                'notold.example', '/var/www/old2', 'https://new-site.test', 'https://new-site.test/core', 'nouveau.test',
                'media/files', "https://\u{FC}.test", 'o.t', '/srv/sites/new', '/w', '8', '-7']);
        case 7:
            return gen_plain(3);
        default:
            return pick(['url', 'home', 'siteurl', 'link', '', 'a b', "k\u{E9}y"]);
    }
}

function gen_value(int $depth)
{
    $kinds = $depth >= 4 ? 6 : 12;
    switch (rnd($kinds)) {
        case 0:
        case 1:
        case 2:
            return gen_string($depth);
        case 3:
            return pick([0, 1, -1, PHP_INT_MAX, PHP_INT_MIN, rnd(100000)]);
        case 4:
            return pick([0.1, -0.0, 1.0E+25, 3.14159, 1 / 3, 2.5e-300, INF, -INF, (float)rnd(1000), 0.30000000000000004]);
        case 5:
            return pick([true, false, null, Sl_Suit::Hearts, Sl_Suit::Spades]);
        case 6:
        case 7:
        case 8:
            $a = [];
            for ($i = rnd(7); $i > 0; $i--) {
                $a[gen_key($depth)] = gen_value($depth + 1);
            }
            if (count($a) >= 2 && rnd(4) === 0) {  // a PHP reference between two elements (R:)
                $keys = array_keys($a);
                $a[$keys[1]] = &$a[$keys[0]];
            }
            return $a;
        case 9:
            $o = new stdClass();
            for ($i = rnd(5); $i > 0; $i--) {
                $o->{'p' . gen_key($depth)} = gen_value($depth + 1);  // a property name never starts with NUL
            }
            return $o;
        case 10:
            if (rnd(2)) {
                return new Sl_Widget(gen_string($depth), gen_string($depth), gen_value($depth + 1), gen_value($depth + 1));
            }
            return new Sl_Child_Widget(gen_string($depth), gen_string($depth), gen_string($depth), gen_value($depth + 1), gen_value($depth + 1));
        default:
            $shared = new Sl_Proto_Thing(gen_string($depth), gen_string($depth), [gen_value($depth + 1)]);
            return rnd(3) === 0 ? [$shared, $shared] : $shared;  // the same object twice: r:
    }
}

/** Serializes, renaming Sl_Proto_Thing (also in mangled private names) to a class that does not exist. */
function gen_serialized($v): string
{
    return str_replace('Sl_Proto_Thing', 'Sl_Gone_Thing1', serialize($v));
}

/** Damages serialized data: truncation, a wrong length, a lost brace, trailing junk. */
function corrupt(string $s): string
{
    switch (rnd(4)) {
        case 0:
            return substr($s, 0, max(1, rnd(strlen($s))));
        case 1:
            if (preg_match_all('/s:(\d+):"/', $s, $m, PREG_OFFSET_CAPTURE)) {
                $k = rnd(count($m[1]));
                [$digits, $off] = $m[1][$k];
                return substr($s, 0, $off) . ((int)$digits + pick([1, -1, 2])) . substr($s, $off + strlen($digits));
            }
            return substr($s, 0, -1);
        case 2:
            $p = strrpos($s, '}');
            return $p === false ? $s . 'x' : substr($s, 0, $p) . substr($s, $p + 1);
        default:
            return $s . pick(['x', ' trailing', ';', '}']);
    }
}

// ------------------------------------------------------------------------------------------------

$PAIR_SETS = [
    'site-move' => [
        'https://old.example' => 'https://new-site.test',
        'http://old.example' => 'https://new-site.test',
        '//old.example' => '//new-site.test',
        'https://old.example/wp' => 'https://new-site.test/core',
        'https:\\/\\/old.example' => 'https:\\/\\/new-site.test',
        'http:\\/\\/old.example' => 'https:\\/\\/new-site.test',
        '\\/\\/old.example' => '\\/\\/new-site.test',
        'http:\\\\/\\\\/old.example' => 'https:\\\\/\\\\/new-site.test',
        '\\\\/\\\\/old.example' => '\\\\/\\\\/new-site.test',
        'https:\\\\\\/\\\\\\/old.example' => 'https:\\\\\\/\\\\\\/new-site.test',
        '\\\\\\/\\\\\\/old.example' => '\\\\\\/\\\\\\/new-site.test',
        'https:\\u002F\\u002Fold.example' => 'https:\\u002F\\u002Fnew-site.test',
        'https:\\u002f\\u002fold.example' => 'https:\\u002f\\u002fnew-site.test',
        'http:\\u002F\\u002Fold.example' => 'https:\\u002F\\u002Fnew-site.test',
        'https%3A%2F%2Fold.example' => 'https%3A%2F%2Fnew-site.test',
        'https%3a%2f%2fold.example' => 'https%3a%2f%2fnew-site.test',
        'http%3A%2F%2Fold.example' => 'https%3A%2F%2Fnew-site.test',
        '%2F%2Fold.example' => '%2F%2Fnew-site.test',
        '/var/www/old' => '/srv/sites/new',
        '\\/var\\/www\\/old' => '\\/srv\\/sites\\/new',
    ],
    'literal' => [
        'old.example' => 'nouveau.test',
        '/sites/7/' => '/sites/12/',
        'wp-content/uploads' => 'media/files',
        'https://old.example/wp-content' => 'https://cdn.test/assets',
    ],
    'shrink-multibyte' => [
        'https://old.example' => "https://\u{FC}.test",
        'old.example' => 'o.t',
        '/var/www/old' => '/w',
    ],
    'to-integer' => [  // keys that become integer strings
        'https://old.example' => '8',
        'old.example' => '-7',
        '/var/www/old/wp-content/uploads' => '0',
        '/var/www/old' => '/w',
    ],
];

// Given to SiteLift\rewrite() with $all_forms: the reference expands them itself (sl_expand_forms) and
// applies the result literally, so the expansion is checked along with everything else.
$ALL_FORMS_SETS = [
    'all-forms' => [
        'https://old.example' => 'https://new-site.test',
        'https://old.example/wp/' => 'https://new-site.test/core/',
        'https://OLD.example:8080' => 'https://new-site.test/port',  // its lower-case host moves too
        '/var/www/old' => '/srv/sites/new',
        'old.example' => 'old.example',  // not a URL: as given (claims bare hosts, changes nothing)
    ],
];

/** The pairs Rewriter::with_all_forms() makes of $given (ext/core/rewrite.hpp), in its order. */
function sl_expand_forms(array $given): array
{
    $is_url = fn(string $u) => str_starts_with($u, 'https://') || str_starts_with($u, 'http://') ||
        (str_starts_with($u, '//') && strlen($u) > 2);
    $is_path = fn(string $p) => strlen($p) > 1 && $p[0] === '/' && $p[1] !== '/';
    $split = function (string $u): ?array {
        $scheme = str_starts_with($u, 'https://') ? 'https' : (str_starts_with($u, 'http://') ? 'http' : '');
        $rest = $scheme === '' ? $u : substr($u, strlen($scheme) + 1);
        while (strlen($rest) > 2 && str_ends_with($rest, '/')) {
            $rest = substr($rest, 0, -1);
        }
        return strlen($rest) > 2 ? [$scheme, $rest] : null;
    };
    $base = [];
    foreach ($given as $s => $r) {
        $s = (string)$s;
        if ($is_url($s) && $is_url($r)) {
            $from = $split($s);
            $to = $split($r);
            if ($from === null || $to === null) {
                continue;
            }
            $to_full = $to[0] === '' ? $to[1] : "$to[0]:$to[1]";
            // The host with capitals also in lower case, the path as it is.
            $slash = strpos($from[1], '/', 2);
            $lower = $slash === false ? strtolower($from[1]) : strtolower(substr($from[1], 0, $slash)) . substr($from[1], $slash);
            foreach (array_unique([$from[1], $lower]) as $rest) {
                if ($from[0] !== '') {
                    $base[] = ['https:' . $rest, $to_full];
                    $base[] = ['http:' . $rest, $to_full];
                }
                $base[] = [$rest, $to[1]];
            }
        } elseif ($is_path($s) && ($is_path($r) || $r === '')) {
            $base[] = [$s, $r];
        }
    }
    $out = [];
    foreach ($given as $s => $r) {
        $out[(string)$s] ??= $r;
    }
    $add = function (string $s, string $r) use (&$out) {
        if ($s !== $r && !array_key_exists($s, $out)) {
            $out[$s] = $r;
        }
    };
    $json = fn(string $x) => str_replace(['\\', '/'], ['\\\\', '\\/'], $x);
    $nested = fn(string $x, int $n) => str_replace(['\\', '/'], [str_repeat('\\', 4), str_repeat('\\', $n) . '/'], $x);
    $uni = fn(string $x, bool $up) => str_replace(['\\', '/'], ['\\\\', $up ? '\\u002F' : '\\u002f'], $x);
    $url = fn(string $x, bool $up) => $up ? rawurlencode($x) : preg_replace_callback('/%[0-9A-F]{2}/', fn($m) => strtolower($m[0]), rawurlencode($x));
    foreach ($base as [$s, $r]) {
        $add($s, $r);
    }
    foreach ($base as [$s, $r]) {
        $add($json($s), $json($r));
    }
    foreach ([2, 3] as $n) {
        foreach ($base as [$s, $r]) {
            $add($nested($s, $n), $nested($r, $n));
        }
    }
    foreach ([true, false] as $up) {
        foreach ($base as [$s, $r]) {
            $add($uni($s, $up), $uni($r, $up));
        }
    }
    foreach ([true, false] as $up) {
        foreach ($base as [$s, $r]) {
            $add($url($s, $up), $url($r, $up));
        }
    }
    return $out;
}

mt_srand($SEED);
$passed = 0;
$failed = 0;
$skipped = 0;
$skip_reasons = [];
$kinds = [];
$changed = [];
$shown = 0;

$report = function (string $kind, string $input, string $want, string $got, string $set) use (&$shown, $VERBOSE) {
    if ($shown++ >= 5 && !$VERBOSE) {
        return;
    }
    $show = fn(string $s) => strlen($s) > 600 ? addcslashes(substr($s, 0, 600), "\0..\37\"\\\177..\377") . '...' : addcslashes($s, "\0..\37\"\\\177..\377");
    fwrite(STDERR, "MISMATCH ($kind, pairs: $set)\n  input: \"{$show($input)}\"\n  want:  \"{$show($want)}\"\n  got:   \"{$show($got)}\"\n");
};

$set_names = array_merge(array_keys($PAIR_SETS), array_keys($ALL_FORMS_SETS));
for ($case = 0; $case < $CASES; $case++) {
    $set = $set_names[$case % count($set_names)];
    $all_forms = isset($ALL_FORMS_SETS[$set]);
    $pairs = $all_forms ? $ALL_FORMS_SETS[$set] : $PAIR_SETS[$set];
    $pats = sl_prepare($all_forms ? sl_expand_forms($pairs) : $pairs);

    $r = rnd(10);
    if ($r < 6) {
        $kind = 'serialized';
        $input = gen_serialized(gen_value(0));
        if (!sl_php_serialized($input, $v)) {
            $skipped++;  // PHP does not round-trip it: no reference
            $skip_reasons['serialized value PHP does not round-trip'] = ($skip_reasons['serialized value PHP does not round-trip'] ?? 0) + 1;
            continue;
        }
        $want = sl_ref_text($input, $pats, 0);
    } elseif ($r < 9) {
        $kind = 'plain';
        $input = rnd(8) === 0 ? gen_vc() : gen_plain(12);
        if (sl_php_serialized($input, $v)) {
            $skipped++;  // random text that happens to be serialized data
            $skip_reasons['plain text that is serialized data'] = ($skip_reasons['plain text that is serialized data'] ?? 0) + 1;
            continue;
        }
        $want = sl_ref_plain($input, $pats)[0];
    } else {
        $kind = 'corrupt';
        $input = corrupt(gen_serialized([gen_value(1), gen_string(1)]));
        if (@unserialize($input) !== false || $input === 'b:0;') {
            $skipped++;  // still valid for PHP (e.g. trailing bytes PHP ignores): not a corrupt case
            $skip_reasons['damaged data PHP still accepts'] = ($skip_reasons['damaged data PHP still accepts'] ?? 0) + 1;
            continue;
        }
        $want = sl_ref_plain($input, $pats)[0];
    }

    $got = SiteLift\rewrite($input, $pairs, $all_forms);
    $kinds[$kind] = ($kinds[$kind] ?? 0) + 1;
    if ($want !== $input) {
        $changed[$kind] = ($changed[$kind] ?? 0) + 1;
    }
    if ($got === $want) {
        $passed++;
    } else {
        $failed++;
        $report($kind, $input, $want, $got, $set);
    }
}

ksort($kinds);
$mix = implode(', ', array_map(fn($k, $n) => "$k $n (" . ($changed[$k] ?? 0) . " changed)", array_keys($kinds), $kinds));
$why = $skip_reasons ? ': ' . implode(', ', array_map(fn($k, $n) => "$k $n", array_keys($skip_reasons), $skip_reasons)) : '';
echo "rewrite differential, seed $SEED: $mix; reference: arrays with rewritten keys {$SL_STATS['keys_changed']}, "
    . "key collisions {$SL_STATS['key_collisions']}\n";
echo "$passed passed, $failed failed ($skipped skipped$why)\n";
exit($failed === 0 ? 0 : 1);
