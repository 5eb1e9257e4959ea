<?php
/**
 * Runs PHP code inside a site's WordPress: php wp-eval.php --root=DIR --url=URL --code='...'
 * (`scripts/sites eval NAME CODE`). The code runs in the global scope after wp-load.php.
 */
require __DIR__ . '/wp-env.php';
$sl_eval_opts = sl_opts(['root', 'url', 'code']);
sl_wp_server($sl_eval_opts['root'], $sl_eval_opts['url']);
require rtrim($sl_eval_opts['root'], '/') . '/wp-load.php';
eval($sl_eval_opts['code'] . ';');
