<?php
/**
 * Checks a folder that plain `tar -x` extracted from a SiteLift archive against its manifest.json, with PHP's
 * own hashing: every entry exists with the type, size, SHA-256, mode, mtime and link target the manifest gives.
 *
 *   php verify-manifest.php EXTRACTED_DIR
 */
$dir = $argv[1] ?? null;
if (!$dir || !is_file("$dir/manifest.json")) {
    fwrite(STDERR, "usage: verify-manifest.php EXTRACTED_DIR (holding manifest.json)\n");
    exit(2);
}
$manifest = json_decode(file_get_contents("$dir/manifest.json"), true, 512, JSON_THROW_ON_ERROR);
$problems = [];
$count = 0;
foreach ($manifest['entries'] as $e) {
    $path = $e['path'] ?? base64_decode($e['path_b64'], true);
    $full = "$dir/$path";
    $st = @lstat($full);
    ++$count;
    if ($st === false) {
        $problems[] = "missing: " . json_encode($path, JSON_INVALID_UTF8_SUBSTITUTE);
        continue;
    }
    $type = match ($st['mode'] & 0170000) { 0100000 => 'file', 0040000 => 'dir', 0120000 => 'symlink', default => 'other' };
    $name = json_encode($path, JSON_INVALID_UTF8_SUBSTITUTE | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    if ($type !== $e['type']) {
        $problems[] = "$name: is a $type, the manifest says {$e['type']}";
        continue;
    }
    if (sprintf('%04o', $st['mode'] & 07777) !== $e['mode'] && $type !== 'symlink') {
        $problems[] = sprintf("%s: mode %04o, the manifest says %s", $name, $st['mode'] & 07777, $e['mode']);
    }
    if ($type === 'file') {
        if ($st['size'] !== $e['size']) $problems[] = "$name: size {$st['size']}, the manifest says {$e['size']}";
        if (hash_file('sha256', $full) !== $e['sha256']) $problems[] = "$name: SHA-256 differs from the manifest";
        if ($st['mtime'] !== $e['mtime']) $problems[] = "$name: mtime {$st['mtime']}, the manifest says {$e['mtime']}";
    } elseif ($type === 'symlink') {
        $target = $e['target'] ?? base64_decode($e['target_b64'], true);
        if (readlink($full) !== $target) $problems[] = "$name: link target differs from the manifest";
    }
}
foreach (array_slice($problems, 0, 20) as $p) echo "  $p\n";
echo "verify-manifest: $count entries, " . count($problems) . " problems\n";
exit($problems ? 1 : 0);
