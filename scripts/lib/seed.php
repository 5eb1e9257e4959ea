<?php
/**
 * Deterministic content seeder for SiteLift's local test sites (`scripts/sites seed NAME`).
 *
 *   php seed.php --root=SITE_ROOT --url=SITE_URL --size=small|medium [--seed=N]
 *
 * Runs inside the site's WordPress (wp-load.php) on a freshly installed site: it uses WordPress'
 * own functions where the structures are intricate (users and roles, categories, options) and
 * multi-row INSERTs on $wpdb's connection where volume needs speed (posts, revisions, postmeta,
 * comments, term relationships). Every choice comes from one fixed-seed generator, and dates are
 * fixed, so the same size gives the same content on every run (what WordPress' installer itself
 * writes — install time, the admin's password hash, salts, cron times — still varies).
 *
 * What it makes (see the $SIZES table for counts): posts, pages, revisions and an autosave with
 * Gutenberg block content (site URL in <img src>/href and in block-comment JSON, protocol-relative
 * and URL-encoded forms, escaped JSON in a script tag), classic-editor posts with shortcodes,
 * drafts with zero GMT dates, private/pending/trashed/password-protected posts, postmeta with
 * JSON (escaped URLs `http:\/\/...`), serialized arrays, NULL and empty values, oEmbed caches;
 * comments (threaded, approved/pending/spam/trash) with commentmeta; users of every core role, a
 * custom role and a user with two roles, with usermeta (prefixed keys too); categories (nested),
 * tags, an unregistered custom taxonomy with termmeta; a nav menu, a wp_navigation, reusable
 * blocks, global styles and a custom template; serialized options (widget_text, widget_block,
 * sidebars_widgets, theme_mods_twentytwentythree, a plugin-like option with nested serialized
 * strings and an object with private/protected properties, a large option, transients); real
 * JPEG/PNG uploads in wp-content/uploads/YYYY/MM with WordPress' intermediate sizes and
 * attachment metadata, PDFs, text, CSV and ZIP files; and edge cases for the archive engine: a
 * table without primary key with generated columns, all 256 byte values in a BLOB, zero dates,
 * NULLs, TIMESTAMPs, a MyISAM table with a composite key, and odd files (spaces, newline,
 * UTF-8 and non-UTF-8 names, a >100-byte name deep in a >255-byte path, an empty folder, a
 * relative symlink, modes 0600/0755, .htaccess files, an empty file).
 *
 * Prints one summary line on stdout; progress goes to stderr.
 */

require __DIR__ . '/wp-env.php';
$O = sl_opts(['root', 'url', 'size']);
$SIZE = $O['size'];

$SIZES = [
	'small' => [
		'posts' => 200, 'pages' => 10, 'revision_share' => 30, 'comments' => 50, 'users' => 12,
		'images' => 100, 'pool' => 0, 'others' => 24, 'categories' => 12, 'tags' => 40, 'genres' => 5,
		'meta_extra' => [0, 3], 'paragraphs' => [2, 6],
	],
	'medium' => [
		// ~50k rows in posts, ~500k postmeta, ~1 GiB of uploads in ~20k files.
		'posts' => 32000, 'pages' => 1500, 'revision_share' => 15, 'comments' => 20000, 'users' => 500,
		'images' => null, 'pool' => 300, 'others' => 1500, 'categories' => 60, 'tags' => 2000, 'genres' => 20,
		'meta_extra' => [2, 12], 'paragraphs' => [2, 5], 'upload_bytes' => 1 << 30,
	],
];
if (!isset($SIZES[$SIZE])) {
	fwrite(STDERR, "seed: --size must be one of: " . implode(', ', array_keys($SIZES)) . "\n");
	exit(2);
}
$C = $SIZES[$SIZE];
$SEED = (int) ($O['seed'] ?? 20240917);

sl_wp_server($O['root'], $O['url']);
require rtrim($O['root'], '/') . '/wp-load.php';
require_once ABSPATH . 'wp-includes/class-phpass.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

umask(022);
set_time_limit(0);
$T0 = microtime(true);
$URL = rtrim($O['url'], '/');
$ROOT = rtrim($O['root'], '/');
$UPLOADS = "$ROOT/wp-content/uploads";
global $wpdb;
$P = $wpdb->prefix;
/** @var mysqli $DB */
$DB = $wpdb->dbh;
$R = new Random\Randomizer(new Random\Engine\Xoshiro256StarStar($SEED + ($SIZE === 'medium' ? 1 : 0)));

function progress(string $msg): void {
	global $T0;
	fprintf(STDERR, "seed: [%6.1fs] %s\n", microtime(true) - $T0, $msg);
}

function sql(string $q) {
	global $DB;
	$r = $DB->query($q);
	if ($r === false) {
		fwrite(STDERR, "seed: SQL error: " . $DB->error . "\n  in: " . substr($q, 0, 400) . "\n");
		exit(1);
	}
	return $r;
}

function sql_value(string $q) {
	$r = sql($q);
	$row = $r->fetch_row();
	return $row ? $row[0] : null;
}

/** Multi-row INSERT buffer on the raw connection (no per-row WordPress overhead). */
final class SlBulk {
	private array $rows = [];
	private int $bytes = 0;
	public int $count = 0;

	public function __construct(private mysqli $db, private string $table, private array $cols, private int $max = 2 << 20) {}

	public function add(array $vals): void {
		$parts = [];
		foreach ($vals as $v) {
			if ($v === null) {
				$parts[] = 'NULL';
			} elseif (is_int($v)) {
				$parts[] = (string) $v;
			} else {
				$parts[] = "'" . $this->db->real_escape_string((string) $v) . "'";
			}
		}
		$row = '(' . implode(',', $parts) . ')';
		$this->rows[] = $row;
		$this->bytes += strlen($row) + 1;
		$this->count++;
		if ($this->bytes >= $this->max) {
			$this->flush();
		}
	}

	public function flush(): void {
		if (!$this->rows) {
			return;
		}
		sql('INSERT INTO `' . $this->table . '` (`' . implode('`,`', $this->cols) . '`) VALUES ' . implode(',', $this->rows));
		$this->rows = [];
		$this->bytes = 0;
	}
}

// ------------------------------------------------------------------------------------ random bits

function rint(int $a, int $b): int { global $R; return $R->getInt($a, $b); }
function chance(int $percent): bool { return rint(1, 100) <= $percent; }
function pick(array $a) { return $a[rint(0, count($a) - 1)]; }

/** Fast deterministic pseudo-random bytes (AES-128-CTR keystream). */
function prng_bytes(int $n, string $key): string {
	return $n <= 0 ? '' : openssl_encrypt(str_repeat("\0", $n), 'aes-128-ctr', md5($key, true), OPENSSL_RAW_DATA, str_repeat("\0", 16));
}

const WORDS = ['site', 'migration', 'archive', 'server', 'database', 'garden', 'river', 'mountain', 'coffee',
	'morning', 'journey', 'update', 'release', 'notes', 'travel', 'design', 'pattern', 'family', 'weekend',
	'recipe', 'bread', 'photo', 'gallery', 'concert', 'summer', 'winter', 'autumn', 'spring', 'market',
	'library', 'project', 'upload', 'backup', 'restore', 'network', 'plugin', 'theme', 'widget', 'block',
	'editor', 'review', 'guide', 'lesson', 'history', 'future', 'simple', 'quiet', 'bright', 'golden',
	'little', 'northern', 'ancient', 'modern', 'careful', 'rapid', 'gentle', 'hidden', 'open', 'secret',
	'city', 'harbor', 'forest', 'island', 'bridge', 'tower', 'school', 'studio', 'kitchen', 'workshop'];
const INTL = ['Ünïcödé', '日本語', 'über', 'café', 'naïve', 'Ελληνικά', 'русский', '中文', '한국어', 'señor',
	'façade', 'Zürich', 'São Paulo', 'Kraków', 'Ærøskøbing'];
const EMOJI = ['🚀', '🎉', '✨', '🌍', '📦', '🔥', '🍕', '🐘', '👩‍💻', '🇯🇵'];

function ascii_words(int $n): string {
	$w = [];
	for ($i = 0; $i < $n; $i++) {
		$w[] = pick(WORDS);
	}
	return implode('-', $w);
}

function words(int $n): string {
	$w = [];
	for ($i = 0; $i < $n; $i++) {
		$w[] = chance(6) ? pick(INTL) : pick(WORDS);
	}
	return implode(' ', $w);
}

function sentence(int $min = 6, int $max = 16): string {
	$s = ucfirst(words(rint($min, $max)));
	if (chance(8)) {
		$s .= ' ' . pick(EMOJI);
	}
	return $s . pick(['.', '.', '.', '!', '?']);
}

function title(): string {
	$t = ucwords(words(rint(2, 6)));
	$r = rint(1, 100);
	if ($r <= 12) {
		$t = pick(EMOJI) . ' ' . $t;
	} elseif ($r <= 20) {
		$t .= ' — 日本語のテスト';
	} elseif ($r <= 26) {
		$t .= ' & "quotes" <em>tags</em>';
	}
	return $t;
}

$DATE0 = strtotime('2019-01-01 00:00:00 UTC');
$DATE1 = strtotime('2024-12-31 23:00:00 UTC');
function rand_ts(): int { global $DATE0, $DATE1; return rint($DATE0, $DATE1); }
function dt(int $ts): string { return gmdate('Y-m-d H:i:s', $ts); }

// -------------------------------------------------------------------------------------- images

/** A 24-bit BMP from raw BGR bytes, read back by GD: the fastest way to get noise into an image. */
function gd_from_bytes(int $w, int $h, string $bytes) {
	$row = $w * 3;
	$pad = (4 - $row % 4) % 4;
	if ($pad === 0) {
		$data = substr($bytes, 0, $row * $h);
	} else {
		$chunks = [];
		$z = str_repeat("\0", $pad);
		for ($y = 0; $y < $h; $y++) {
			$chunks[] = substr($bytes, $y * $row, $row) . $z;
		}
		$data = implode('', $chunks);
	}
	$hdr = 'BM' . pack('VvvV', 54 + strlen($data), 0, 0, 54) . pack('VVVvvVVVVVV', 40, $w, $h, 1, 24, 0, strlen($data), 2835, 2835, 0, 0);
	return imagecreatefromstring($hdr . $data);
}

function encode_image($im, bool $png, int $quality): string {
	ob_start();
	$png ? imagepng($im, null, 6) : imagejpeg($im, null, $quality);
	return ob_get_clean();
}

/**
 * One picture and WordPress' intermediate sizes of it (thumbnail 150x150 cropped, medium within
 * 300x300, medium_large 768 wide, large within 1024x1024; each only when the original is larger).
 */
function make_image_set(int $seed, bool $png): array {
	$r = new Random\Randomizer(new Random\Engine\Xoshiro256StarStar($seed));
	$w = $png ? $r->getInt(420, 960) : $r->getInt(640, 1280);
	$h = $png ? $r->getInt(320, 720) : $r->getInt(480, 1024);
	// Background: a vertical gradient OR-ed with masked noise, built with byte-string operations
	// (C speed) at 1/k of the size; k > 1 gives blocky, more compressible noise.
	$k = $png ? 4 : $r->getInt(1, 2);
	$bw = intdiv($w + $k - 1, $k);
	$bh = intdiv($h + $k - 1, $k);
	$c0 = [$r->getInt(0, 255), $r->getInt(0, 255), $r->getInt(0, 255)];
	$c1 = [$r->getInt(0, 255), $r->getInt(0, 255), $r->getInt(0, 255)];
	$rows = [];
	for ($y = 0; $y < $bh; $y++) {
		$t = $y / max(1, $bh - 1);
		$rows[] = str_repeat(chr((int) ($c0[2] + ($c1[2] - $c0[2]) * $t)) . chr((int) ($c0[1] + ($c1[1] - $c0[1]) * $t)) . chr((int) ($c0[0] + ($c1[0] - $c0[0]) * $t)), $bw);
	}
	$n = $bw * $bh * 3;
	$mask = str_repeat(chr($png ? 0x0F : [0x0F, 0x1F, 0x3F][$r->getInt(0, 2)]), $n);
	$im = gd_from_bytes($bw, $bh, implode('', $rows) | (prng_bytes($n, "noise-$seed") & $mask));
	if ($k > 1) {
		$im = imagescale($im, $w, $h, IMG_NEAREST_NEIGHBOUR);
	}
	$shapes = $r->getInt(5, 14);
	for ($s = 0; $s < $shapes; $s++) {
		$c = imagecolorallocate($im, $r->getInt(0, 255), $r->getInt(0, 255), $r->getInt(0, 255));
		$x = $r->getInt(0, $w);
		$y = $r->getInt(0, $h);
		switch ($r->getInt(0, 3)) {
			case 0: imagefilledellipse($im, $x, $y, $r->getInt(10, intdiv($w, 3)), $r->getInt(10, intdiv($h, 3)), $c); break;
			case 1: imagefilledrectangle($im, $x, $y, $x + $r->getInt(5, intdiv($w, 4)), $y + $r->getInt(5, intdiv($h, 4)), $c); break;
			case 2: imagesetthickness($im, $r->getInt(1, 8)); imageline($im, $x, $y, $r->getInt(0, $w), $r->getInt(0, $h), $c); break;
			default:
				imagefilledpolygon($im, [$x, $y, $r->getInt(0, $w), $r->getInt(0, $h), $r->getInt(0, $w), $r->getInt(0, $h)], $c);
		}
	}
	imagestring($im, 5, 12, 12, "SiteLift seed image $seed", imagecolorallocate($im, 255, 255, 255));
	$quality = $r->getInt(72, 90);
	$set = ['png' => $png, 'w' => $w, 'h' => $h, 'orig' => encode_image($im, $png, $quality), 'sizes' => []];

	$side = min($w, $h);
	$crop = imagecrop($im, ['x' => intdiv($w - $side, 2), 'y' => intdiv($h - $side, 2), 'width' => $side, 'height' => $side]);
	$set['sizes']['thumbnail'] = sized(imagescale($crop, 150, 150, IMG_BILINEAR_FIXED), $png, $quality);
	$fit = function (int $mw, int $mh) use ($w, $h): array {
		$s = min($mw / $w, $mh / $h);
		return [max(1, (int) round($w * $s)), max(1, (int) round($h * $s))];
	};
	if ($w > 300 || $h > 300) {
		[$mw, $mh] = $fit(300, 300);
		$set['sizes']['medium'] = sized(imagescale($im, $mw, $mh, IMG_BILINEAR_FIXED), $png, $quality);
	}
	if ($w > 768) {
		$mh = (int) round($h * 768 / $w);
		$set['sizes']['medium_large'] = sized(imagescale($im, 768, $mh, IMG_BILINEAR_FIXED), $png, $quality);
	}
	if ($w > 1024 || $h > 1024) {
		[$lw, $lh] = $fit(1024, 1024);
		$set['sizes']['large'] = sized(imagescale($im, $lw, $lh, IMG_BILINEAR_FIXED), $png, $quality);
	}
	return $set;
}

function sized($im, bool $png, int $quality): array {
	return ['w' => imagesx($im), 'h' => imagesy($im), 'bytes' => encode_image($im, $png, $quality)];
}

/** Makes a file unique without breaking it: a JPEG COM segment, or a PNG tEXt chunk. */
function vary_image(string $bytes, bool $png, string $tag): string {
	if ($png) {
		$data = "Comment\0$tag";
		$chunk = pack('N', strlen($data)) . 'tEXt' . $data . pack('N', crc32('tEXt' . $data));
		return substr($bytes, 0, 33) . $chunk . substr($bytes, 33);  // after the signature and IHDR
	}
	return "\xFF\xD8\xFF\xFE" . pack('n', strlen($tag) + 2) . $tag . substr($bytes, 2);
}

// ------------------------------------------------------------------------------- other files

function make_pdf(string $title, int $pages, int $blob): string {
	$esc = fn (string $s) => strtr($s, ['\\' => '\\\\', '(' => '\\(', ')' => '\\)']);
	$objs = [1 => '<< /Type /Catalog /Pages 2 0 R >>', 3 => '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
		4 => '<< /Title (' . $esc($title) . ') /Producer (SiteLift seed) >>'];
	$kids = [];
	$n = 5;
	for ($p = 0; $p < $pages; $p++) {
		$s = "BT /F1 11 Tf 50 790 Td 14 TL\n(" . $esc($title) . " - page " . ($p + 1) . ") Tj T*\n";
		for ($l = 0; $l < 50; $l++) {
			$s .= '(' . $esc(ucfirst(implode(' ', array_map(fn () => pick(WORDS), range(1, rint(6, 12)))))) . ") Tj T*\n";
		}
		$s .= "ET\n";
		$objs[$n] = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents " . ($n + 1) . " 0 R >>";
		$objs[$n + 1] = "<< /Length " . strlen($s) . " >>\nstream\n{$s}endstream";
		$kids[] = "$n 0 R";
		$n += 2;
	}
	if ($blob > 0) {  // an embedded binary stream, as scanned PDFs carry
		$b = prng_bytes($blob, "pdf-$title");
		$objs[$n++] = "<< /Length " . strlen($b) . " >>\nstream\n{$b}\nendstream";
	}
	$objs[2] = '<< /Type /Pages /Kids [' . implode(' ', $kids) . "] /Count $pages >>";
	ksort($objs);
	$out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
	$offsets = [];
	foreach ($objs as $i => $body) {
		$offsets[$i] = strlen($out);
		$out .= "$i 0 obj\n$body\nendobj\n";
	}
	$xref = strlen($out);
	$out .= "xref\n0 " . ($n) . "\n0000000000 65535 f \n";
	for ($i = 1; $i < $n; $i++) {
		$out .= sprintf("%010d 00000 n \n", $offsets[$i]);
	}
	return $out . "trailer\n<< /Size $n /Root 1 0 R /Info 4 0 R >>\nstartxref\n$xref\n%%EOF\n";
}

/** A ZIP archive with stored (uncompressed) members. */
function make_zip(array $files): string {
	$out = '';
	$cd = '';
	$date = ((2020 - 1980) << 9) | (6 << 5) | 15;
	foreach ($files as $name => $data) {
		$crc = crc32($data);
		$len = strlen($data);
		$off = strlen($out);
		$flags = 0x0800;  // names are UTF-8
		$out .= pack('VvvvvvVVVvv', 0x04034b50, 20, $flags, 0, 0, $date, $crc, $len, $len, strlen($name), 0) . $name . $data;
		$cd .= pack('VvvvvvvVVVvvvvvVV', 0x02014b50, 20, 20, $flags, 0, 0, $date, $crc, $len, $len, strlen($name), 0, 0, 0, 0, 0, $off) . $name;
	}
	return $out . $cd . pack('VvvvvVVv', 0x06054b50, 0, 0, count($files), count($files), strlen($cd), strlen($out), 0);
}

function text_file(int $bytes): string {
	$s = '';
	while (strlen($s) < $bytes) {
		$s .= sentence() . (chance(20) ? "\r\n" : "\n");
	}
	return $s;
}

function write_file(string $path, string $bytes, int $mtime): int {
	$dir = dirname($path);
	if (!is_dir($dir) && !mkdir($dir, 0755, true) && !is_dir($dir)) {
		fwrite(STDERR, "seed: cannot create $dir\n");
		exit(1);
	}
	if (file_put_contents($path, $bytes) !== strlen($bytes)) {
		fwrite(STDERR, "seed: cannot write $path\n");
		exit(1);
	}
	touch($path, $mtime);
	return strlen($bytes);
}

// ==================================================================================== seeding

$wpdb->query('SET SESSION unique_checks = 0');
wp_suspend_cache_invalidation(true);

// ------------------------------------------------------------------------------- users, roles
progress("users and roles");
add_role('sl_shop_manager', 'Shop Manager 🛒', ['read' => true, 'edit_posts' => true, 'upload_files' => true, 'manage_sl_shop' => true]);
$hasher = new PasswordHash(8, true);
$ITOA = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
$authors = [1];
$users = [1];
$firsts = ['Anna', 'Björn', 'Chloé', 'Dmitri', 'Eun-ji', 'François', 'Greta', 'Hiro', 'Ingrid', 'José', 'Kaito', 'Léa', 'Mateo', 'Noémie', 'Olu', 'Priya', 'Quinn', 'Renée', 'Søren', 'Tomás', 'Yuki', 'Zoë'];
$lasts = ['Müller', 'Øster', 'García', 'Nakamura', '山田', 'Smith', "O'Brien", 'Kowalski', 'Dubois', 'Rossi', 'Новиков', 'Lee'];
$userBulkMeta = new SlBulk($DB, "{$P}usermeta", ['user_id', 'meta_key', 'meta_value']);
sql('START TRANSACTION');  // one commit for all of wp_insert_user()'s queries
for ($i = 1; $i <= $C['users']; $i++) {
	$roll = rint(1, 100);
	$role = $i <= 2 ? 'administrator' : ($i === 3 ? 'author' : ($roll <= 10 ? 'editor' : ($roll <= 30 ? 'author' : ($roll <= 45 ? 'contributor' : ($roll <= 55 ? 'sl_shop_manager' : 'subscriber')))));
	$first = pick($firsts);
	$last = pick($lasts);
	$login = sprintf('seed_user_%04d', $i);
	$id = wp_insert_user([
		'user_login' => $login,
		'user_pass' => 'seed-user-pw',
		'user_email' => "$login@example.test",
		'user_url' => chance(50) ? "$URL/author/$login/" : "https://example.org/~$login",
		'user_registered' => dt(rand_ts()),
		'display_name' => "$first $last" . (chance(10) ? ' ' . pick(EMOJI) : ''),
		'first_name' => $first,
		'last_name' => $last,
		'nickname' => $login,
		'description' => sentence() . " See $URL/author/$login/ or " . pick(INTL) . '.',
		'role' => $role,
	]);
	if (is_wp_error($id)) {
		fwrite(STDERR, "seed: wp_insert_user: " . $id->get_error_message() . "\n");
		exit(1);
	}
	// A deterministic phpass hash of 'seed-user-pw' instead of the random-salted one.
	$salt = '';
	for ($k = 0; $k < 8; $k++) {
		$salt .= $ITOA[rint(0, 63)];
	}
	$wpdb->update($wpdb->users, ['user_pass' => $hasher->crypt_private('seed-user-pw', '$P$B' . $salt), 'user_activation_key' => ''], ['ID' => $id]);
	if ($i === 3) {
		(new WP_User($id))->add_role('sl_shop_manager');  // a user with two roles
	}
	$users[] = $id;
	if (in_array($role, ['administrator', 'editor', 'author', 'contributor'], true)) {
		$authors[] = $id;
	}
	$userBulkMeta->add([$id, "{$P}user-settings", 'libraryContent=browse&editor=html&hidetb=1']);
	$userBulkMeta->add([$id, "{$P}user-settings-time", '1700000000']);
	$userBulkMeta->add([$id, "{$P}dashboard_quick_press_last_post_id", (string) rint(1, 100)]);
	$userBulkMeta->add([$id, 'session_tokens', serialize([hash('sha256', "token-$i") => ['expiration' => 2000000000, 'ip' => '127.0.0.1', 'ua' => 'Mozilla/5.0 (SiteLift seed)', 'login' => 1700000000]])]);
	$userBulkMeta->add([$id, 'sl_seed_profile', json_encode(['home' => "$URL/author/$login/", 'avatar' => "$URL/wp-content/uploads/avatars/$login.png", 'bio' => 'Ünïcödé 🚀'])]);
	if (chance(30)) {
		$userBulkMeta->add([$id, 'community-events-location', serialize(['ip' => '127.0.0.0'])]);
	}
	if (chance(20)) {
		$userBulkMeta->add([$id, '_application_passwords', serialize([['uuid' => sprintf('%08x-0000-4000-8000-%012x', $i, $i), 'app_id' => '', 'name' => 'SiteLift seed', 'password' => '$P$B' . str_repeat('x', 31), 'created' => 1700000000, 'last_used' => null, 'last_ip' => null]])]);
	}
}
$userBulkMeta->add([1, "{$P}user-settings", 'editor=tinymce&libraryContent=browse']);
$userBulkMeta->add([1, 'sl_seed_profile', json_encode(['home' => "$URL/", 'note' => 'admin 🚀'])]);
$userBulkMeta->flush();
sql('COMMIT');

// ------------------------------------------------------------------------------------- terms
progress("terms");
sql('START TRANSACTION');
$cats = [];
for ($i = 1; $i <= $C['categories']; $i++) {
	$parent = ($i > 4 && chance(40)) ? pick($cats)['term_id'] : 0;
	$name = ucwords(words(rint(1, 2))) . ($i % 7 === 0 ? ' ' . pick(EMOJI) : '') . " $i";
	$t = wp_insert_term($name, 'category', ['parent' => $parent, 'description' => sentence() . " $URL/category/"]);
	if (is_wp_error($t)) {
		fwrite(STDERR, "seed: wp_insert_term: " . $t->get_error_message() . "\n");
		exit(1);
	}
	$cats[] = $t;
}
$catTT = array_map(fn ($t) => (int) $t['term_taxonomy_id'], $cats);
$catTT[] = (int) get_term(get_option('default_category'), 'category')->term_taxonomy_id;

// Tags and an unregistered custom taxonomy (as a deactivated plugin leaves them): bulk.
$nextTerm = (int) sql_value("SELECT COALESCE(MAX(term_id), 0) + 1 FROM {$P}terms");
$nextTT = (int) sql_value("SELECT COALESCE(MAX(term_taxonomy_id), 0) + 1 FROM {$P}term_taxonomy");
$termsB = new SlBulk($DB, "{$P}terms", ['term_id', 'name', 'slug', 'term_group']);
$ttB = new SlBulk($DB, "{$P}term_taxonomy", ['term_taxonomy_id', 'term_id', 'taxonomy', 'description', 'parent', 'count']);
$termmetaB = new SlBulk($DB, "{$P}termmeta", ['term_id', 'meta_key', 'meta_value']);
$tagTT = [];
$genreTT = [];
foreach ([['post_tag', $C['tags']], ['sl_genre', $C['genres']]] as [$tax, $n]) {
	for ($i = 1; $i <= $n; $i++) {
		$name = words(rint(1, 2)) . " $i";
		$termsB->add([$nextTerm, $name, sanitize_title($name), 0]);
		$ttB->add([$nextTT, $nextTerm, $tax, chance(20) ? sentence() : '', 0, 0]);
		if ($tax === 'sl_genre' || chance(5)) {
			$termmetaB->add([$nextTerm, 'sl_seed_color', sprintf('#%06x', rint(0, 0xFFFFFF))]);
			$termmetaB->add([$nextTerm, 'sl_seed_image', "$URL/wp-content/uploads/terms/term-$nextTerm.png"]);
		}
		if ($tax === 'post_tag') {
			$tagTT[] = $nextTT;
		} else {
			$genreTT[] = $nextTT;
		}
		$nextTerm++;
		$nextTT++;
	}
}
$menuTerm = [$nextTerm, $nextTT];
$termsB->add([$nextTerm++, 'Main menu 🚀', 'main-menu', 0]);
$ttB->add([$nextTT++, $menuTerm[0], 'nav_menu', '', 0, 0]);
$themeTerm = [$nextTerm, $nextTT];
$termsB->add([$nextTerm++, 'twentytwentythree', 'twentytwentythree', 0]);
$ttB->add([$nextTT++, $themeTerm[0], 'wp_theme', '', 0, 0]);
$termsB->flush();
$ttB->flush();
$termmetaB->flush();
sql('COMMIT');

// ------------------------------------------------------------------------------- ID planning
$firstId = (int) sql_value("SELECT COALESCE(MAX(ID), 0) + 1 FROM {$P}posts");
$images = [];  // attachment records, filled by the uploads phase
$others = [];

// ------------------------------------------------------------------------------------ uploads
progress("uploads: images");
$uploadBytes = 0;
$uploadFiles = 0;
$nextId = $firstId;
$postsB = new SlBulk($DB, "{$P}posts", ['ID', 'post_author', 'post_date', 'post_date_gmt', 'post_content', 'post_title',
	'post_excerpt', 'post_status', 'comment_status', 'ping_status', 'post_password', 'post_name', 'to_ping', 'pinged',
	'post_modified', 'post_modified_gmt', 'post_content_filtered', 'post_parent', 'guid', 'menu_order', 'post_type',
	'post_mime_type', 'comment_count']);
$metaB = new SlBulk($DB, "{$P}postmeta", ['post_id', 'meta_key', 'meta_value']);
$relB = new SlBulk($DB, "{$P}term_relationships", ['object_id', 'term_taxonomy_id', 'term_order']);

function add_post(array $p): void {
	global $postsB;
	$ts = $p['ts'];
	$mod = $p['modified'] ?? $ts;
	$postsB->add([$p['ID'], $p['author'] ?? 1, dt($ts), $p['date_gmt'] ?? dt($ts), $p['content'] ?? '', $p['title'] ?? '',
		$p['excerpt'] ?? '', $p['status'] ?? 'publish', $p['comment_status'] ?? 'open', $p['ping_status'] ?? 'open',
		$p['password'] ?? '', $p['name'] ?? '', '', '', dt($mod), dt($mod), '', $p['parent'] ?? 0, $p['guid'],
		$p['menu_order'] ?? 0, $p['type'] ?? 'post', $p['mime'] ?? '', 0]);
}

function image_meta(): array {
	return ['aperture' => '0', 'credit' => '', 'camera' => '', 'caption' => '', 'created_timestamp' => '0', 'copyright' => '',
		'focal_length' => '0', 'iso' => '0', 'shutter_speed' => '0', 'title' => '', 'orientation' => '0', 'keywords' => []];
}

// How many images: a fixed count, or enough to reach the size's upload volume.
$pool = [];
if ($C['pool'] > 0) {
	$poolBytes = 0;
	for ($i = 0; $i < $C['pool']; $i++) {
		$set = make_image_set($SEED * 1000 + $i, $i % 7 === 3);
		$pool[] = $set;
		$poolBytes += strlen($set['orig']) + array_sum(array_map(fn ($s) => strlen($s['bytes']), $set['sizes']));
		if ($i % 50 === 49) {
			progress("  image pool: " . ($i + 1) . "/{$C['pool']}");
		}
	}
	$avgSet = $poolBytes / count($pool);
	$otherBudget = $C['others'] * 26000;  // what the other files come to, roughly
	$nImages = $C['images'] ?? (int) max(1, round(($C['upload_bytes'] - $otherBudget) / $avgSet));
	progress(sprintf("  pool of %d distinct images, %.0f KB per image with its sizes: %d image attachments", count($pool), $avgSet / 1024, $nImages));
} else {
	$nImages = $C['images'];
}
$nPosts = $C['posts'];
$postIds0 = $firstId + $nImages + $C['others'];  // attachments first, then posts, then pages
$pageIds0 = $postIds0 + $nPosts;
$revIds0 = $pageIds0 + $C['pages'];

$usedNames = [];
for ($i = 0; $i < $nImages; $i++) {
	$id = $nextId++;
	$ts = rand_ts();
	$ym = gmdate('Y/m', $ts);
	$set = $pool ? $pool[($i * 7919) % count($pool)] : make_image_set($SEED * 1000 + 500000 + $i, $i % 7 === 3);
	$png = $set['png'];
	$ext = $png ? 'png' : 'jpg';
	$r = rint(1, 100);
	$base = $r <= 4 ? pick(['日本語-写真', 'ünïcödé-bild', 'café-menü']) . "-$i" : ($r <= 70 ? ascii_words(rint(1, 3)) . "-$i" : sprintf('IMG_%04d', 1000 + $i));
	$file = "$ym/$base.$ext";
	$tag = "sitelift-seed $SIZE attachment $id";
	$bytes = vary_image($set['orig'], $png, $tag);
	$uploadBytes += write_file("$UPLOADS/$file", $bytes, $ts);
	$uploadFiles++;
	$sizes = [];
	$sizeFiles = [];
	foreach ($set['sizes'] as $name => $s) {
		$sf = "$base-{$s['w']}x{$s['h']}.$ext";
		$sb = vary_image($s['bytes'], $png, $tag);
		$uploadBytes += write_file("$UPLOADS/$ym/$sf", $sb, $ts);
		$uploadFiles++;
		$sizes[$name] = ['file' => $sf, 'width' => $s['w'], 'height' => $s['h'], 'mime-type' => $png ? 'image/png' : 'image/jpeg', 'filesize' => strlen($sb)];
		$sizeFiles[$name] = $sf;
	}
	$mime = $png ? 'image/png' : 'image/jpeg';
	$parent = chance(70) ? rint($postIds0, $postIds0 + $nPosts - 1) : 0;
	$title = ucwords(str_replace('-', ' ', $base));
	add_post(['ID' => $id, 'ts' => $ts, 'author' => pick($authors), 'title' => $title, 'name' => sanitize_title($base) . "-$id",
		'status' => 'inherit', 'parent' => $parent, 'guid' => "$URL/wp-content/uploads/$file", 'type' => 'attachment',
		'mime' => $mime, 'content' => chance(20) ? sentence() : '', 'excerpt' => chance(30) ? 'Caption: ' . sentence() : '']);
	$metaB->add([$id, '_wp_attached_file', $file]);
	$metaB->add([$id, '_wp_attachment_metadata', serialize(['width' => $set['w'], 'height' => $set['h'], 'file' => $file,
		'filesize' => strlen($bytes), 'sizes' => $sizes, 'image_meta' => image_meta()])]);
	if (chance(60)) {
		$metaB->add([$id, '_wp_attachment_image_alt', 'Alt text: ' . words(rint(2, 5))]);
	}
	$images[] = ['id' => $id, 'file' => $file, 'ym' => $ym, 'sizes' => $sizeFiles, 'w' => $set['w'], 'h' => $set['h']];
	if ($i % 500 === 499) {
		progress("  images: " . ($i + 1) . "/$nImages, " . round($uploadBytes / 1048576) . " MB");
	}
}
unset($pool);

progress("uploads: other files");
for ($i = 0; $i < $C['others']; $i++) {
	$id = $nextId++;
	$ts = rand_ts();
	$ym = gmdate('Y/m', $ts);
	$kind = pick(['pdf', 'pdf', 'txt', 'csv', 'zip']);
	$base = ascii_words(rint(1, 3)) . "-doc-$i";
	switch ($kind) {
		case 'pdf':
			$bytes = make_pdf(ucwords(words(3)), rint(1, 4), chance(60) ? rint(4000, 80000) : 0);
			$mime = 'application/pdf';
			break;
		case 'txt':
			$bytes = text_file(rint(200, 30000));
			$mime = 'text/plain';
			break;
		case 'csv':
			$bytes = "id,title,url,price\n";
			for ($k = 1, $n = rint(5, 300); $k <= $n; $k++) {
				$bytes .= "$k,\"" . words(3) . "\",$URL/?p=$k," . rint(1, 99999) / 100 . "\n";
			}
			$mime = 'text/csv';
			break;
		default:
			$bytes = make_zip(['readme.txt' => text_file(rint(100, 4000)), 'data/blob.bin' => prng_bytes(rint(1000, 60000), "zip-$i"),
				'data/ünïcödé.txt' => "日本語 🚀\n"]);
			$mime = 'application/zip';
	}
	$file = "$ym/$base.$kind";
	$uploadBytes += write_file("$UPLOADS/$file", $bytes, $ts);
	$uploadFiles++;
	add_post(['ID' => $id, 'ts' => $ts, 'author' => pick($authors), 'title' => ucwords(str_replace('-', ' ', $base)),
		'name' => "$base-$id", 'status' => 'inherit', 'parent' => chance(50) ? rint($postIds0, $postIds0 + $nPosts - 1) : 0,
		'guid' => "$URL/wp-content/uploads/$file", 'type' => 'attachment', 'mime' => $mime]);
	$metaB->add([$id, '_wp_attached_file', $file]);
	$metaB->add([$id, '_wp_attachment_metadata', serialize(['filesize' => strlen($bytes)])]);
	$others[] = ['id' => $id, 'file' => $file, 'kind' => $kind, 'title' => $base];
}
$postsB->flush();
$metaB->flush();

// ---------------------------------------------------------------------------- posts and pages
progress("posts, pages, revisions, postmeta");

function image_url(array $img, ?string $size = null): string {
	global $URL;
	if ($size !== null && isset($img['sizes'][$size])) {
		return "$URL/wp-content/uploads/{$img['ym']}/{$img['sizes'][$size]}";
	}
	return "$URL/wp-content/uploads/{$img['file']}";
}

function permalink(array $p): string {
	global $URL;
	return $p['type'] === 'page' ? "$URL/{$p['name']}/" : "$URL/" . gmdate('Y/m', $p['ts']) . "/{$p['name']}/";
}

/** Gutenberg block content in the shapes the block editor saves. */
function block_content(int $id, array $self, array $linkable): string {
	global $images, $others, $URL, $C;
	$b = [];
	$paras = rint($C['paragraphs'][0], $C['paragraphs'][1]);
	for ($i = 0; $i < $paras; $i++) {
		$s = htmlspecialchars(sentence(), ENT_NOQUOTES);
		if ($linkable && chance(50)) {
			$o = pick($linkable);
			$s .= ' Read <a href="' . permalink($o) . '">' . htmlspecialchars($o['title'], ENT_NOQUOTES) . '</a>.';
		}
		if (chance(15)) {
			$s .= ' External: <a href="https://example.com/' . sanitize_title(words(2)) . '/">example.com</a>.';
		}
		$b[] = "<!-- wp:paragraph -->\n<p>$s</p>\n<!-- /wp:paragraph -->";
		if ($i === 0 && chance(40)) {
			$b[] = "<!-- wp:heading -->\n<h2 class=\"wp-block-heading\">" . htmlspecialchars(ucfirst(words(rint(2, 5))), ENT_NOQUOTES) . "</h2>\n<!-- /wp:heading -->";
		}
	}
	if ($images && chance(65)) {
		$img = pick($images);
		$size = isset($img['sizes']['large']) ? 'large' : (isset($img['sizes']['medium_large']) ? 'medium_large' : 'full');
		$b[] = "<!-- wp:image {\"id\":{$img['id']},\"sizeSlug\":\"$size\",\"linkDestination\":\"media\"} -->\n"
			. "<figure class=\"wp-block-image size-$size\"><a href=\"" . image_url($img) . "\"><img src=\"" . image_url($img, $size === 'full' ? null : $size)
			. "\" alt=\"\" class=\"wp-image-{$img['id']}\"/></a><figcaption class=\"wp-element-caption\">" . htmlspecialchars(words(4), ENT_NOQUOTES) . "</figcaption></figure>\n<!-- /wp:image -->";
	}
	if (count($images) > 3 && chance(12)) {
		$g = [pick($images), pick($images), pick($images)];
		$inner = '';
		foreach ($g as $img) {
			$inner .= "\n<!-- wp:image {\"id\":{$img['id']},\"sizeSlug\":\"medium\",\"linkDestination\":\"none\"} -->\n"
				. "<figure class=\"wp-block-image size-medium\"><img src=\"" . image_url($img, 'medium') . "\" alt=\"\" class=\"wp-image-{$img['id']}\"/></figure>\n<!-- /wp:image -->\n";
		}
		$b[] = "<!-- wp:gallery {\"linkTo\":\"none\"} -->\n<figure class=\"wp-block-gallery has-nested-images columns-default is-cropped\">$inner</figure>\n<!-- /wp:gallery -->";
	}
	if ($images && chance(10)) {
		$img = pick($images);
		$b[] = "<!-- wp:cover {\"url\":\"" . image_url($img) . "\",\"id\":{$img['id']},\"dimRatio\":50} -->\n"
			. "<div class=\"wp-block-cover\"><span aria-hidden=\"true\" class=\"wp-block-cover__background has-background-dim\"></span><img class=\"wp-block-cover__image-background wp-image-{$img['id']}\" alt=\"\" src=\"" . image_url($img) . "\" data-object-fit=\"cover\"/><div class=\"wp-block-cover__inner-container\"><!-- wp:paragraph {\"align\":\"center\"} -->\n<p class=\"has-text-align-center\">" . htmlspecialchars(words(3), ENT_NOQUOTES) . "</p>\n<!-- /wp:paragraph --></div></div>\n<!-- /wp:cover -->";
	}
	if ($others && chance(8)) {
		$f = pick($others);
		$href = "$URL/wp-content/uploads/{$f['file']}";
		$b[] = "<!-- wp:file {\"id\":{$f['id']},\"href\":\"$href\"} -->\n<div class=\"wp-block-file\"><a id=\"wp-block-file--media-{$f['id']}\" href=\"$href\">{$f['title']}</a><a href=\"$href\" class=\"wp-block-file__button wp-element-button\" download aria-describedby=\"wp-block-file--media-{$f['id']}\">Download</a></div>\n<!-- /wp:file -->";
	}
	if (chance(25)) {
		$b[] = "<!-- wp:list -->\n<ul><li>" . implode('</li><li>', array_map(fn () => htmlspecialchars(words(rint(2, 6)), ENT_NOQUOTES), range(1, rint(2, 5)))) . "</li></ul>\n<!-- /wp:list -->";
	}
	if (chance(15)) {
		// A custom block whose attributes hold URLs the way serialize_block_attributes() escapes them.
		$label = '\u003cstrong\u003e' . words(2) . '\u003c/strong\u003e \u002d\u002d ' . pick(INTL);
		$b[] = "<!-- wp:sl-seed/card {\"href\":\"$URL/?p=$id\",\"image\":\"" . ($images ? image_url(pick($images)) : "$URL/") . "\",\"label\":\"$label\"} /-->";
	}
	if (chance(12)) {
		$host = parse_url($URL, PHP_URL_HOST) . ':' . parse_url($URL, PHP_URL_PORT);
		$json = json_encode(['src' => "$URL/wp-content/uploads/data-$id.json", 'home' => "$URL/", 'title' => '日本語 🚀']);
		$b[] = "<!-- wp:html -->\n<div class=\"sl-embed\" data-config='" . htmlspecialchars($json, ENT_QUOTES) . "'>"
			. "<img src=\"//$host/wp-content/uploads/pixel.gif\" alt=\"\">"
			. "<a href=\"https://example.com/share?u=" . rawurlencode("$URL/?p=$id") . "\">share</a></div>\n"
			. "<script type=\"application/json\">$json</script>\n<!-- /wp:html -->";
	}
	return implode("\n\n", $b);
}

/** Classic-editor HTML with shortcodes, as older posts have. */
function classic_content(int $id): string {
	global $images, $URL;
	$s = '<p>' . htmlspecialchars(sentence(), ENT_NOQUOTES) . "</p>\n\n";
	if ($images) {
		$img = pick($images);
		$s .= "[caption id=\"attachment_{$img['id']}\" align=\"alignnone\" width=\"300\"]<img class=\"size-medium wp-image-{$img['id']}\" src=\""
			. image_url($img, 'medium') . "\" alt=\"\" width=\"300\" height=\"200\" /> " . words(3) . "[/caption]\n\n";
	}
	if (count($images) > 2) {
		$s .= '[gallery ids="' . pick($images)['id'] . ',' . pick($images)['id'] . "\"]\n\n";
	}
	$s .= '<p>' . htmlspecialchars(sentence(), ENT_NOQUOTES) . " <a href=\"$URL/?p=$id\">$URL/?p=$id</a></p>";
	return $s;
}

$metaCount0 = $metaB->count;
$revisionsMade = 0;
$linkable = [];
$nextRev = $revIds0;
$trashed = 0;
$allPosts = [];
$stickies = [];
$total = $nPosts + $C['pages'];
for ($n = 0; $n < $total; $n++) {
	$isPage = $n >= $nPosts;
	$id = $isPage ? $pageIds0 + ($n - $nPosts) : $postIds0 + $n;
	$ts = rand_ts();
	$title = title();
	$roll = rint(1, 100);
	$status = $roll <= 80 ? 'publish' : ($roll <= 88 ? 'draft' : ($roll <= 91 ? 'pending' : ($roll <= 94 ? 'private' : ($roll <= 97 ? 'trash' : 'publish'))));
	$password = ($status === 'publish' && chance(2)) ? 'seed-post-pw' : '';
	$slug = sanitize_title($title);
	$slug = ($slug === '' ? 'post' : preg_replace('/%[0-9a-f]?$/', '', substr($slug, 0, 150))) . "-$id";
	$p = ['ID' => $id, 'ts' => $ts, 'title' => $title, 'name' => $slug, 'type' => $isPage ? 'page' : 'post', 'status' => $status,
		'author' => pick($authors), 'password' => $password, 'modified' => $ts + rint(0, 86400 * 30)];
	if ($status === 'draft') {
		$p['date_gmt'] = '0000-00-00 00:00:00';
		$p['name'] = chance(50) ? '' : $slug;
	}
	if ($status === 'trash') {
		$p['name'] = $slug . '__trashed';
	}
	$p['content'] = (!$isPage && chance(20)) ? classic_content($id) : block_content($id, $p, $linkable);
	$p['excerpt'] = chance(30) ? sentence() : '';
	$p['guid'] = $isPage ? "$URL/?page_id=$id" : "$URL/?p=$id";
	if ($isPage) {
		$p['parent'] = ($n > $nPosts + 3 && chance(30)) ? rint($pageIds0, $id - 1) : 0;
		$p['menu_order'] = rint(0, 20);
		$p['comment_status'] = 'closed';
	}
	add_post($p);
	if ($status === 'publish' && $password === '') {
		$allPosts[] = $id;
		if (count($linkable) < 2000) {
			$linkable[] = $p;
		}
		if (!$isPage && chance(1) && count($stickies) < 5) {
			$stickies[] = $id;
		}
	}
	// postmeta
	$author = $p['author'];
	$metaB->add([$id, '_edit_last', (string) $author]);
	$metaB->add([$id, '_edit_lock', (1700000000 + $n) . ":$author"]);
	if ($images && chance(60)) {
		$metaB->add([$id, '_thumbnail_id', (string) pick($images)['id']]);
	}
	$img = $images ? pick($images) : null;
	$metaB->add([$id, '_sl_seed_json', json_encode(['url' => permalink($p), 'image' => $img ? image_url($img) : null,
		'title' => $title, 'external' => 'https://example.com/x?y=1&z=2', 'id' => $id])]);
	$metaB->add([$id, '_sl_seed_serialized', serialize(['link' => "$URL/?p=$id", 'list' => [1, 2.5, true, null, 'Ünïcödé 🚀'],
		'nested' => ['deeper' => ['url' => "$URL/wp-content/uploads/", 'label' => 'a"b;c:d{e}']]])]);
	$metaB->add([$id, '_sl_seed_views', (string) rint(0, 100000)]);
	$metaB->add([$id, '_sl_seed_note', "Line 1 \"quoted\" 'single' \\backslash\\ 100% _under_\r\nLine 2\t" . pick(EMOJI) . ' ' . pick(INTL)]);
	if ($isPage) {
		$metaB->add([$id, '_wp_page_template', pick(['default', 'default', 'page-no-title', 'blank'])]);
	}
	if ($status === 'trash') {
		$metaB->add([$id, '_wp_trash_meta_status', 'publish']);
		$metaB->add([$id, '_wp_trash_meta_time', (string) (1700000000 + $n)]);
		$trashed++;
	}
	if (chance(10)) {
		$metaB->add([$id, '_wp_old_slug', 'old-' . $slug]);
	}
	if (chance(8)) {
		$u = 'https://www.youtube.com/watch?v=' . substr(md5("v$id"), 0, 11);
		$metaB->add([$id, '_oembed_' . md5($u), '<iframe title="Seed video" width="500" height="281" src="https://www.youtube.com/embed/' . substr(md5("v$id"), 0, 11) . '?feature=oembed" frameborder="0" allowfullscreen></iframe>']);
		$metaB->add([$id, '_oembed_time_' . md5($u), '1700000000']);
	}
	$extra = rint($C['meta_extra'][0], $C['meta_extra'][1]);
	for ($k = 0; $k < $extra; $k++) {
		switch ($k % 6) {
			case 0: $metaB->add([$id, '_sl_seed_json_unescaped', json_encode(['link' => "$URL/?p=$id", 'text' => '日本語 🚀'], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE)]); break;
			case 1: $metaB->add([$id, '_sl_seed_empty', '']); break;
			case 2: $metaB->add([$id, '_sl_seed_null', null]); break;
			case 3: $metaB->add([$id, '_sl_seed_rating', (string) (rint(10, 50) / 10)]); break;
			case 4: $metaB->add([$id, '_sl_seed_urlencoded', rawurlencode("$URL/?p=$id") . '&ref=' . rawurlencode('//' . parse_url($URL, PHP_URL_HOST))]); break;
			default: $metaB->add([$id, "sl_seed_field_$k", words(rint(1, 8))]);
		}
	}
	if (chance(3)) {
		$metaB->add([$id, '_sl_seed_big', str_repeat(sentence() . ' ', rint(50, 300)) . " $URL/"]);
	}
	// taxonomy
	if (!$isPage) {
		$mine = array_unique([pick($catTT), ...(chance(30) ? [pick($catTT)] : [])]);
		foreach ($mine as $tt) {
			$relB->add([$id, $tt, 0]);
		}
		$tags = [];
		for ($k = rint(0, 5); $k > 0 && $tagTT; $k--) {
			$tags[pick($tagTT)] = true;
		}
		foreach (array_keys($tags) as $tt) {
			$relB->add([$id, $tt, 0]);
		}
		if ($genreTT && chance(20)) {
			$relB->add([$id, pick($genreTT), 0]);
		}
	}
	// revisions (and now and then an autosave)
	if ($status !== 'trash' && chance($C['revision_share'])) {
		for ($r = 1, $nr = rint(1, 3); $r <= $nr; $r++) {
			$rid = $nextRev++;
			add_post(['ID' => $rid, 'ts' => $ts + $r * 600, 'title' => $title, 'name' => "$id-revision-v1", 'status' => 'inherit',
				'author' => $author, 'parent' => $id, 'guid' => "$URL/?p=$rid", 'type' => 'revision', 'comment_status' => 'closed',
				'ping_status' => 'closed', 'content' => ($r < $nr ? "<!-- wp:paragraph -->\n<p>Earlier draft $r.</p>\n<!-- /wp:paragraph -->\n\n" : '') . $p['content']]);
			$revisionsMade++;
		}
		if (chance(10)) {
			$rid = $nextRev++;
			add_post(['ID' => $rid, 'ts' => $ts + 7200, 'title' => $title, 'name' => "$id-autosave-v1", 'status' => 'inherit',
				'author' => $author, 'parent' => $id, 'guid' => "$URL/?p=$rid", 'type' => 'revision', 'comment_status' => 'closed',
				'ping_status' => 'closed', 'content' => $p['content'] . "\n\n<!-- wp:paragraph -->\n<p>Autosaved 🚀</p>\n<!-- /wp:paragraph -->"]);
			$revisionsMade++;
		}
	}
	if ($n % 5000 === 4999) {
		progress("  posts: " . ($n + 1) . "/$total");
	}
}

// Block-theme objects, reusable blocks and a classic nav menu.
$extraId = $nextRev;
$theme = get_stylesheet();
$navId = $extraId++;
add_post(['ID' => $navId, 'ts' => $DATE1, 'title' => 'Navigation', 'name' => 'navigation', 'type' => 'wp_navigation', 'guid' => "$URL/?p=$navId",
	'comment_status' => 'closed', 'ping_status' => 'closed',
	'content' => "<!-- wp:navigation-link {\"label\":\"Home\",\"url\":\"$URL/\",\"kind\":\"custom\",\"isTopLevelLink\":true} /-->\n\n"
		. "<!-- wp:navigation-link {\"label\":\"Über uns 🚀\",\"type\":\"page\",\"id\":$pageIds0,\"url\":\"$URL/?page_id=$pageIds0\",\"kind\":\"post-type\",\"isTopLevelLink\":true} /-->"]);
$gsId = $extraId++;
$gs = ['version' => 2, 'isGlobalStylesUserThemeJSON' => true, 'styles' => ['color' => ['background' => '#fdfbf7'],
	'elements' => ['link' => ['color' => ['text' => '#b5451b']]], 'blocks' => ['core/cover' => ['background' => ['backgroundImage' => ['url' => $images ? image_url($images[0]) : "$URL/"]]]]],
	'settings' => ['color' => ['palette' => ['custom' => [['slug' => 'brand', 'color' => '#b5451b', 'name' => 'Brand 🚀']]]]]];
add_post(['ID' => $gsId, 'ts' => $DATE1, 'title' => 'Custom Styles', 'name' => "wp-global-styles-$theme", 'type' => 'wp_global_styles',
	'guid' => "$URL/?p=$gsId", 'comment_status' => 'closed', 'ping_status' => 'closed', 'content' => json_encode($gs)]);
$relB->add([$gsId, $themeTerm[1], 0]);
$tplId = $extraId++;
add_post(['ID' => $tplId, 'ts' => $DATE1, 'title' => 'Seed landing', 'name' => 'sl-seed-landing', 'type' => 'wp_template', 'guid' => "$URL/?p=$tplId",
	'comment_status' => 'closed', 'ping_status' => 'closed',
	'content' => "<!-- wp:template-part {\"slug\":\"header\",\"theme\":\"$theme\",\"tagName\":\"header\"} /-->\n\n<!-- wp:image {\"url\":\"" . ($images ? image_url($images[0]) : "$URL/") . "\"} -->\n<figure class=\"wp-block-image\"><img src=\"" . ($images ? image_url($images[0]) : "$URL/") . "\" alt=\"\"/></figure>\n<!-- /wp:image -->\n\n<!-- wp:post-content /-->"]);
$relB->add([$tplId, $themeTerm[1], 0]);
for ($k = 1; $k <= 2; $k++) {
	$bid = $extraId++;
	add_post(['ID' => $bid, 'ts' => $DATE1, 'title' => "Reusable call to action $k", 'name' => "reusable-call-to-action-$k", 'type' => 'wp_block',
		'guid' => "$URL/?p=$bid", 'comment_status' => 'closed', 'ping_status' => 'closed',
		'content' => "<!-- wp:buttons -->\n<div class=\"wp-block-buttons\"><!-- wp:button -->\n<div class=\"wp-block-button\"><a class=\"wp-block-button__link wp-element-button\" href=\"$URL/contact/\">Contact ✉️</a></div>\n<!-- /wp:button --></div>\n<!-- /wp:buttons -->"]);
}
$menuItems = [['Home', "$URL/", 'custom', 0, 'custom'], ['Blog 📝', "$URL/blog/", 'custom', 0, 'custom'], ['Example', 'https://example.com/', 'custom', 0, 'custom']];
if ($C['pages'] > 0) {
	$menuItems[] = ['', '', 'post_type', $pageIds0, 'page'];
}
$menuItems[] = ['', '', 'taxonomy', (int) $cats[0]['term_id'], 'category'];
foreach ($menuItems as $k => [$label, $mUrl, $type, $obj, $object]) {
	$mid = $extraId++;
	add_post(['ID' => $mid, 'ts' => $DATE1, 'title' => $label, 'name' => (string) $mid, 'type' => 'nav_menu_item', 'guid' => "$URL/?p=$mid",
		'menu_order' => $k + 1, 'comment_status' => 'closed', 'ping_status' => 'closed']);
	foreach (['_menu_item_type' => $type, '_menu_item_menu_item_parent' => '0', '_menu_item_object_id' => (string) ($obj ?: $mid),
		'_menu_item_object' => $object, '_menu_item_target' => '', '_menu_item_classes' => serialize(['']), '_menu_item_xfn' => '',
		'_menu_item_url' => $mUrl] as $mk => $mv) {
		$metaB->add([$mid, $mk, $mv]);
	}
	$relB->add([$mid, $menuTerm[1], 0]);
}
$postsB->flush();
$metaB->flush();
$relB->flush();

// ------------------------------------------------------------------------------------ comments
progress("comments");
$commentsB = new SlBulk($DB, "{$P}comments", ['comment_ID', 'comment_post_ID', 'comment_author', 'comment_author_email', 'comment_author_url',
	'comment_author_IP', 'comment_date', 'comment_date_gmt', 'comment_content', 'comment_karma', 'comment_approved', 'comment_agent',
	'comment_type', 'comment_parent', 'user_id']);
$cmetaB = new SlBulk($DB, "{$P}commentmeta", ['comment_id', 'meta_key', 'meta_value']);
$cid = (int) sql_value("SELECT COALESCE(MAX(comment_ID), 0) + 1 FROM {$P}comments");
$byPost = [];
for ($i = 0; $i < $C['comments']; $i++) {
	$post = $allPosts ? pick($allPosts) : 1;
	$ts = rand_ts();
	$parent = (isset($byPost[$post]) && chance(30)) ? pick($byPost[$post]) : 0;
	$user = chance(25) ? pick($users) : 0;
	$approved = pick(['1', '1', '1', '1', '1', '1', '0', 'spam', 'trash']);
	$name = pick($firsts) . ' ' . pick($lasts);
	$content = htmlspecialchars(sentence(), ENT_NOQUOTES) . (chance(30) ? " See <a href=\"$URL/?p=$post\">this</a>." : '') . (chance(20) ? ' ' . pick(EMOJI) . ' 日本語' : '');
	$commentsB->add([$cid, $post, $name, sanitize_title($name) . "@example.test", chance(40) ? "$URL/author/x/" : (chance(50) ? 'https://example.net/' : ''),
		'127.0.0.' . rint(1, 254), dt($ts), dt($ts), $content, 0, $approved, 'Mozilla/5.0 (X11; Linux x86_64) SiteLiftSeed/1.0', 'comment', $parent, $user]);
	if (chance(50)) {
		$cmetaB->add([$cid, 'sl_seed_rating', (string) rint(1, 5)]);
	}
	if (chance(30)) {
		$cmetaB->add([$cid, 'akismet_result', $approved === 'spam' ? 'true' : 'false']);
		$cmetaB->add([$cid, 'akismet_history', serialize(['time' => 1700000000.5, 'event' => 'check-ham', 'user' => '', 'meta' => ['url' => "$URL/?p=$post"]])]);
	}
	$byPost[$post][] = $cid;
	$cid++;
}
// Pingback and a pending reply on the default post, with an emoji author.
$commentsB->add([$cid++, 1, 'Pingback 🚀', '', "$URL/?p=" . ($allPosts ? $allPosts[0] : 1), '127.0.0.1', dt($DATE1), dt($DATE1),
	'[&#8230;] pingback from ' . $URL . ' [&#8230;]', 0, '1', '', 'pingback', 0, 0]);
$commentsB->flush();
$cmetaB->flush();

// --------------------------------------------------------------------------- counts and options
progress("counts and options");
sql("UPDATE {$P}term_taxonomy tt SET count = (SELECT COUNT(*) FROM {$P}term_relationships tr JOIN {$P}posts p ON p.ID = tr.object_id"
	. " WHERE tr.term_taxonomy_id = tt.term_taxonomy_id AND (p.post_status = 'publish' OR tt.taxonomy IN ('nav_menu', 'wp_theme')))");
sql("UPDATE {$P}posts p JOIN (SELECT comment_post_ID, COUNT(*) c FROM {$P}comments WHERE comment_approved = '1' GROUP BY comment_post_ID) x"
	. " ON x.comment_post_ID = p.ID SET p.comment_count = x.c");

/** Settings object as a plugin would store it: private and protected properties serialize with NUL bytes in their names. */
class SL_Seed_Settings_Object {
	public $label = 'Ünïcödé 🚀';
	protected $endpoint;
	private $cdn;
	private $options;
	public function __construct(string $url) {
		$this->endpoint = "$url/wp-json/sl-seed/v1/";
		$this->cdn = "$url/wp-content/uploads/";
		$this->options = ['home' => "$url/", 'list' => ["$url/a/", "$url/b/"]];
	}
}

$widgetImg = $images ? image_url($images[0], 'medium') : "$URL/";
update_option('widget_text', [2 => ['title' => 'About 🚀', 'text' => "<p>Welcome to <a href=\"$URL/\">our site</a>.</p><img src=\"$widgetImg\" alt=\"\">", 'filter' => true, 'visual' => true], '_multiwidget' => 1]);
update_option('widget_block', [
	2 => ['content' => "<!-- wp:paragraph -->\n<p>Find us at <a href=\"$URL/contact/\">$URL/contact/</a> — 日本語 ✨</p>\n<!-- /wp:paragraph -->"],
	3 => ['content' => "<!-- wp:image {\"id\":" . ($images ? $images[0]['id'] : 0) . "} -->\n<figure class=\"wp-block-image\"><img src=\"$widgetImg\" alt=\"\"/></figure>\n<!-- /wp:image -->"],
	4 => ['content' => '<!-- wp:latest-posts {"postsToShow":3} /-->'],
	'_multiwidget' => 1,
]);
update_option('sidebars_widgets', ['wp_inactive_widgets' => ['block-4'], 'sidebar-1' => ['block-2', 'block-3', 'text-2'], 'array_version' => 3]);
$logo = $images ? $images[0]['id'] : 0;
update_option("theme_mods_$theme", ['custom_css_post_id' => -1, 'nav_menu_locations' => ['primary' => $menuTerm[0]], 'custom_logo' => $logo,
	'header_image' => $images ? image_url($images[0]) : '', 'header_image_data' => (object) ['attachment_id' => $logo, 'url' => $images ? image_url($images[0]) : '', 'thumbnail_url' => $widgetImg, 'height' => 400, 'width' => 1200],
	'background_image' => $images ? image_url(end($images)) : '', 'sl_seed_links' => ["$URL/", "$URL/shop/", 'https://example.com/']]);
update_option('sl_seed_plugin_settings', [
	'version' => '2.3.1',
	'endpoints' => ['home' => "$URL/", 'api' => "$URL/wp-json/sl-seed/v1/", 'ajax' => "$URL/wp-admin/admin-ajax.php"],
	// A serialized string inside the serialized array, itself holding a serialized string.
	'nested' => serialize(['cdn' => "$URL/wp-content/uploads/", 'deeper' => serialize(['logo' => "$URL/wp-content/uploads/logo.png", 'n' => 3])]),
	'json' => json_encode(['webhook' => "$URL/?sl-seed-hook=1", 'title' => 'Ünïcödé 🚀']),
	// A JSON document kept inside JSON ("https:\\\/\\\/..."), and JSON run through addslashes() ("https:\\/\\/...").
	'json_in_json' => json_encode(['layout' => json_encode(['background' => "$URL/wp-content/uploads/bg.jpg"])]),
	'slashed_json' => addslashes(json_encode(['link' => "$URL/shop/", 'title' => 'x'])),
	'object' => new SL_Seed_Settings_Object($URL),
	'unicode' => '日本語 Ünïcödé 🚀',
	'counts' => [1, 2, 3],
	'enabled' => true,
	'ratio' => 0.25,
]);
update_option('sl_seed_tricky', ['fake' => 's:5:"hello";}i:0;a:1:{', 'quotes' => "\"';:{}", 'url_in_key' => [$URL => 'value keyed by the site URL'],
	'trailing' => "$URL", 'crlf' => "a\r\nb", 'nul' => "before\0after"]);
update_option('sl_seed_big_blob', str_repeat("Large option row with the site URL $URL/ and some 日本語 text. ", 7000), false);
set_transient('sl_seed_cache', ['url' => "$URL/", 'html' => "<a href=\"$URL/\">home</a>"], 0);
update_option('_transient_timeout_sl_seed_expiring', 2000000000, false);
update_option('_transient_sl_seed_expiring', "$URL/expiring", false);
update_option('_site_transient_sl_seed_site', ['checked' => 1700000000, 'url' => "$URL/"], false);
update_option('blogdescription', 'Migrations 🚀 für 日本語');
update_option('sticky_posts', $stickies);
update_option('site_icon', $logo);
update_option('recently_activated', ['sl-seed-gone/sl-seed-gone.php' => 1700000000]);

// ----------------------------------------------------------------------- archive-engine edges
progress("edge-case tables and files");
sql("SET SESSION time_zone = '+00:00'");
sql("DROP TABLE IF EXISTS `{$P}sitelift_edge`");
sql("CREATE TABLE `{$P}sitelift_edge` (
  `id` INT NULL,
  `label` VARCHAR(191) NULL,
  `payload` LONGBLOB NULL,
  `created` DATETIME NULL,
  `day` DATE NULL,
  `ts` TIMESTAMP NULL DEFAULT NULL,
  `dur` TIME NULL,
  `yr` YEAR NULL,
  `amount` DECIMAL(14,4) NULL,
  `ratio` DOUBLE NULL,
  `big` BIGINT UNSIGNED NULL,
  `flags` BIT(8) NULL,
  `kind` ENUM('a','b','c') NULL,
  `tags` SET('x','y','z') NULL,
  `doc` JSON NULL,
  `label_len` INT AS (CHAR_LENGTH(`label`)) VIRTUAL,
  `payload_md5` CHAR(32) AS (MD5(`payload`)) STORED
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='SiteLift seed: no primary key'");
$allBytes = '';
for ($i = 0; $i < 256; $i++) {
	$allBytes .= chr($i);
}
$e = fn ($v) => $v === null ? 'NULL' : "'" . $DB->real_escape_string($v) . "'";
$edgeRows = [
	"1, 'all 256 byte values', " . $e($allBytes) . ", '2024-01-02 03:04:05', '2024-01-02', '2024-01-02 03:04:05', '12:34:56', 2024, 1234.5678, 0.1, 18446744073709551615, b'10101010', 'a', 'x,z', " . $e(json_encode(['url' => "$URL/", 'n' => 1])),
	"2, NULL, NULL, '0000-00-00 00:00:00', '0000-00-00', '0000-00-00 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL",
	"3, '', '', NULL, NULL, NULL, '-838:59:59', 1901, -0.0001, -1.5e-300, 0, b'0', 'c', '', '{}'",
	"3, '', '', NULL, NULL, NULL, '-838:59:59', 1901, -0.0001, -1.5e-300, 0, b'0', 'c', '', '{}'",
	"4, " . $e("🚀 日本語 Ünïcödé \"double\" 'single' \\backslash\\ 100% _under_ \r\n\ttab \0nul") . ", " . $e(prng_bytes(1 << 20, 'edge-blob')) . ", '1970-01-01 00:00:01', '9999-12-31', '2038-01-19 03:14:07', '838:59:59', 2155, 9999999999.9999, 1.7976931348623157e308, 1, b'11111111', 'b', 'x,y,z', " . $e('{"a":[1,2,{"b":null}],"u":"' . str_replace('/', '\/', $URL) . '\/"}'),
	"5, " . $e("$URL/wp-content/uploads/") . ", " . $e(serialize(['url' => "$URL/", 'bin' => "\0\xff\xfe"])) . ", '2000-02-29 12:00:00', '2000-02-29', NULL, '00:00:00', 2000, 0, 0, 42, b'1', 'a', 'y', NULL",
];
sql("INSERT INTO `{$P}sitelift_edge` (`id`,`label`,`payload`,`created`,`day`,`ts`,`dur`,`yr`,`amount`,`ratio`,`big`,`flags`,`kind`,`tags`,`doc`) VALUES (" . implode('), (', $edgeRows) . ')');
sql("DROP TABLE IF EXISTS `{$P}sitelift_kv`");
sql("CREATE TABLE `{$P}sitelift_kv` (`bucket` VARCHAR(64) NOT NULL, `k` VARCHAR(150) NOT NULL, `v` LONGTEXT NULL, `updated` INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (`bucket`, `k`)) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='SiteLift seed: MyISAM, composite key'");
$kv = new SlBulk($DB, "{$P}sitelift_kv", ['bucket', 'k', 'v', 'updated']);
foreach (['cache', 'config', 'ünïcödé'] as $bucket) {
	for ($i = 0; $i < 20; $i++) {
		$kv->add([$bucket, "key-$i", $i % 3 === 0 ? serialize(['url' => "$URL/?kv=$i"]) : ($i % 3 === 1 ? null : words(3)), 1700000000 + $i]);
	}
}
$kv->flush();

// Files
$latest = gmdate('Y/m', $DATE1);
$edge = "$UPLOADS/sitelift-edge";
$mt = strtotime('2024-06-01 12:00:00 UTC');
$edgeFiles = [
	"$edge/file with spaces.txt" => "spaces\n",
	"$edge/new\nline.txt" => "a newline in the name\n",
	"$edge/日本語-ünïcödé-🚀.txt" => "UTF-8 name\n",
	"$edge/latin1-caf\xE9.txt" => "a name that is not UTF-8 (ISO-8859-1 byte 0xE9)\n",
	"$edge/it's \"quoted\" back\\slash.txt" => "quotes and a backslash\n",
	"$edge/empty.txt" => '',
	"$edge/private-0600.txt" => "mode 0600\n",
	"$edge/run-me.sh" => "#!/bin/sh\necho 'SiteLift seed script'\n",
	"$edge/" . str_repeat('deep-folder-name-', 4) . '1/' . str_repeat('deep-folder-name-', 4) . '2/' . str_repeat('deep-folder-name-', 4) . '3/'
		. str_repeat('a-file-name-longer-than-one-hundred-bytes-', 3) . 'end.txt' => "deep and long\n",
	"$UPLOADS/.htaccess" => "# SiteLift seed: no scripts in uploads\n<Files *.php>\ndeny from all\n</Files>\n",
	"$ROOT/.htaccess" => "# BEGIN WordPress\n<IfModule mod_rewrite.c>\nRewriteEngine On\nRewriteBase /\nRewriteRule ^index\\.php$ - [L]\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule . /index.php [L]\n</IfModule>\n# END WordPress\n",
];
foreach ($edgeFiles as $path => $bytes) {
	write_file($path, $bytes, $mt);
}
chmod("$edge/private-0600.txt", 0600);
chmod("$edge/run-me.sh", 0755);
@mkdir("$edge/empty-dir", 0755, true);
if (!is_dir("$UPLOADS/$latest")) {
	mkdir("$UPLOADS/$latest", 0755, true);
}
@unlink("$UPLOADS/latest");
symlink($latest, "$UPLOADS/latest");  // relative, inside the site

// --------------------------------------------------------------------------------- summary
wp_suspend_cache_invalidation(false);
wp_cache_flush();
$counts = [];
foreach (sql("SELECT post_type, COUNT(*) FROM {$P}posts GROUP BY post_type ORDER BY COUNT(*) DESC")->fetch_all() as [$t, $c]) {
	$counts[] = "$t $c";
}
$nPostsAll = (int) sql_value("SELECT COUNT(*) FROM {$P}posts");
$nMeta = (int) sql_value("SELECT COUNT(*) FROM {$P}postmeta");
$nComments = (int) sql_value("SELECT COUNT(*) FROM {$P}comments");
$nUsers = (int) sql_value("SELECT COUNT(*) FROM {$P}users");
$nTerms = (int) sql_value("SELECT COUNT(*) FROM {$P}terms");
// What is in uploads now, counted on disk (regular files; links are not followed).
$uploadFiles = 0;
$uploadBytes = 0;
$it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($UPLOADS, FilesystemIterator::SKIP_DOTS));
foreach ($it as $f) {
	if (!$f->isLink() && $f->isFile()) {
		$uploadFiles++;
		$uploadBytes += $f->getSize();
	}
}
update_option('sl_seed_info', ['size' => $SIZE, 'seed' => $SEED, 'url' => $URL, 'posts' => $nPostsAll, 'postmeta' => $nMeta,
	'comments' => $nComments, 'users' => $nUsers, 'upload_files' => $uploadFiles, 'upload_bytes' => $uploadBytes], false);
progress('done (' . implode(', ', $counts) . ')');
printf("seed %s: %d posts, %d postmeta rows, %d comments, %d users, %d terms, uploads %d files / %.1f MB, %.0fs\n", $SIZE, $nPostsAll, $nMeta,
	$nComments, $nUsers, $nTerms, $uploadFiles, $uploadBytes / 1048576, microtime(true) - $T0);
