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
     *
     * @param array $pairs search => replacement
     */
    function rewrite(string $value, array $pairs): string {}
}
