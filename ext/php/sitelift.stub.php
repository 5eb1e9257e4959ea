<?php

/**
 * SiteLift: move a whole WordPress site (database and files) into one verified archive and back.
 *
 * The options arrays of export(), import(), rollback() and cleanup() carry the database password: the binding
 * marks those parameters #[\SensitiveParameter] itself on PHP 8.2+ (gen_stub's namespaced lookup is broken),
 * so they never show in a backtrace.
 *
 * @generate-class-entries
 */

namespace SiteLift {

    /** Every error the engine reports. */
    class Exception extends \RuntimeException {}

    /** An option or argument the engine cannot work with. */
    class UsageException extends Exception {}

    /** The file system failed: a file could not be read or written, the disk is full. */
    class IoException extends Exception {}

    /** The archive is malformed, truncated or not a SiteLift archive. */
    class ArchiveException extends Exception {}

    /** A checksum, size or row count does not match the manifest. */
    class IntegrityException extends Exception {}

    /** Hostile input was refused: a path escaping the site, a device file, SQL touching another table. */
    class SecurityException extends Exception {}

    /** The database reported an error. */
    class DatabaseException extends Exception {}

    /** The site is not in a state for this: another job runs, nothing to roll back. */
    class StateException extends Exception {}

    function version(): string {}

    /**
     * Exports the site at $options['path'] into $options['output'].
     *
     * @param array $options options, see the README
     * @return array summary
     */
    function export(array $options): array {}

    /**
     * Restores the archive $options['input'] into the site at $options['path'], atomically.
     *
     * @param array $options options, see the README
     * @return array summary
     */
    function import(array $options): array {}

    /**
     * Puts back the site that the last import replaced.
     *
     * @param array $options options, see the README
     */
    function rollback(array $options): void {}

    /**
     * Drops what the last import kept for a rollback, and any leftover staging.
     *
     * @param array $options options, see the README
     */
    function cleanup(array $options): void {}

    /**
     * The recorded state of the last import into the site at $path (an empty array when there is none).
     *
     * @return array summary
     */
    function status(string $path): array {}

    /**
     * Replaces each key of $pairs by its value inside one stored value, keeping PHP-serialized data valid.
     * With $all_forms (the default), a pair of URLs also covers the URL's other scheme, its protocol-relative
     * form and every escaped form (JSON, \u002F, URL-encoded), and a pair of absolute paths its escaped forms,
     * as an import does for a site's address; without it, the pairs are searched for exactly as given.
     *
     * @param array $pairs search => replacement (a key PHP keeps as an integer, '8081' say, is searched for
     *                     as its digits; a list is refused)
     */
    function rewrite(string $value, array $pairs, bool $all_forms = true): string {}

    /**
     * Creates a machine token for the site at $site['path'] (the destination of a push), keeps what verifies
     * it in the site's options table and returns it. The token string is in the result only this once.
     *
     * @param array $site path, db, table_prefix
     * @param array $options url (the destination's URL), site_name, ttl (seconds, default 86400)
     * @return array token, fingerprint, url, site_name, expires_at
     */
    function token_create(array $site, array $options): array {}

    /**
     * Revokes the site's machine token; a push in progress with it is refused from then on.
     *
     * @param array $site path, db, table_prefix
     */
    function token_revoke(array $site): void {}

    /**
     * What the site knows of its machine token and of the push it receives (an empty array when there is no
     * token): fingerprint, url, site_name, created_at, expires_at, expired, revoked, job.
     *
     * @param array $site path, db, table_prefix
     * @return array summary
     */
    function token_info(array $site): array {}

    /**
     * Answers one request of the push protocol on the destination: checks its signature, then handshakes,
     * applies a part, finalizes or reports status. Bad requests are answered, not thrown.
     *
     * @param array $site path, db, table_prefix, url (optional: the destination's URL), limits (reported to the
     *                    source), keep (folders of the live site kept through the swap, e.g. this plugin's)
     * @param array $headers request headers, names in any case
     * @param string|resource $body the request body, or a stream to read it from (fopen('php://input', 'rb')):
     *                    read from a stream, a part is decrypted where it lies instead of in a second buffer
     * @return array status (HTTP status code) and body (array, sent as JSON)
     */
    function receive(array $site, string $method, string $target, array $headers, mixed $body): array {}

    /**
     * The sender checks of receive() alone (token, time, signature, nonce not seen before), for a REST
     * permission callback: null when the request may go on, else the answer to send (status and body).
     * Nothing is remembered or changed, so receive() must still be called to do the work.
     *
     * @param array $site path, db, table_prefix, url, limits
     * @param array $headers request headers, names in any case
     */
    function receive_authenticate(array $site, string $method, string $target, array $headers, string $body): ?array {}

    /**
     * Pushes the site at $options['path'] to the destination its machine token names, until it is live or a
     * permanent error stops it. Resumes an interrupted push of the same token.
     *
     * @param array $options options, see the README
     * @return array the job's final state (see push_status())
     */
    function push(array $options): array {}

    /**
     * Advances the push by at most about $seconds (at least one request's worth), then returns its state.
     *
     * @param array $options options, see the README
     * @return array the job's state (see push_status())
     */
    function push_step(array $options, float $seconds = 20.0): array {}

    /**
     * The state of the push from the site at $path (an empty array when there is none).
     *
     * @return array summary
     */
    function push_status(string $path): array {}

    /**
     * Stops the push from the site at $path and forgets its progress; the destination stays untouched.
     */
    function push_cancel(string $path): void {}
}
