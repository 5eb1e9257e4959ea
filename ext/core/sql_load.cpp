// Parallel execution of parsed table-file statements.
//
// Thread model: one producer (the caller of submit()/wait()) and N workers, each owning one connection opened
// in the constructor (so a bad password fails there, not later in a thread). INSERTs go through one FIFO
// bounded by bytes; a worker takes the next statement, runs it inside its own explicit transaction and
// commits once it has run kCommitBytes of SQL, or whenever it finds the queue empty (so wait() never has to
// poke it). A new table is opened by one job (its CREATE TABLE and its first INSERT, committed alone); the
// table's other INSERTs wait for it, work on other tables does not. The first failure is kept, the queue is
// emptied, and it is rethrown from every later submit()/wait(); workers roll back what they had open.
//
// ChunkLoader has the same producer, but one bounded queue per worker: a chunk and its ledger row must commit
// in one transaction, so every statement of a chunk goes to the worker that began it.
#include <mysql.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "error.hpp"
#include "sql.hpp"

namespace sitelift {

namespace {
// Bytes of SQL waiting in the queue: some pieces (see the table file parser) for each connection, enough to
// keep them busy; the import counts this against its 64 MB.
constexpr size_t kQueueLimit = 4u << 20;
constexpr size_t kCommitBytes = 8u << 20;  // bytes of SQL per transaction

// The error a loader keeps for its first failure: e's kind and message, naming the table being loaded.
std::exception_ptr load_failure(const std::string& table, const std::exception& e) {
    std::string msg = table.empty() ? std::string("loading table data: ") : "loading table " + quote_identifier(table) + ": ";
    const Error* err = dynamic_cast<const Error*>(&e);
    return std::make_exception_ptr(Error(err ? err->kind() : ErrorKind::database, msg + e.what()));
}
}  // namespace

void set_up_load_session(Connection& c) {
    c.execute("SET NAMES utf8mb4");
    c.execute("SET SESSION time_zone='+00:00'");
    c.execute("SET SESSION sql_mode='NO_AUTO_VALUE_ON_ZERO'");
    c.execute("SET SESSION foreign_key_checks=0");
    c.execute("SET SESSION unique_checks=0");
    // The load stays in the binary log: replicas of the destination must see it too. max_statement_time is
    // MariaDB only; MySQL refuses it, which is fine.
    for (const char* s : {"SET SESSION max_statement_time=0"}) {
        try {
            c.execute(s);
        } catch (const Error&) {
        }
    }
}

void drop_table_if_exists(Connection& conn, std::string_view table) {
    conn.execute("DROP TABLE IF EXISTS " + quote_identifier(table));
}

struct ParallelLoader::Impl {
    // One unit of work. A table's opening job runs its CREATE TABLE and then, in a transaction of its own, the
    // table's first INSERT (either may be absent); every other job is one INSERT.
    struct Job {
        std::string table;
        std::string create;  // opening job: the CREATE TABLE (empty when the table existed before)
        std::string sql;     // the INSERT (for an opening job: the table's first, possibly empty)
        bool opening = false;
        size_t bytes() const { return create.size() + sql.size(); }
    };

    std::vector<std::unique_ptr<Connection>> conns;
    std::vector<std::thread> threads;

    std::mutex mu;
    std::condition_variable cv_work;   // workers: a job arrived, or stop
    std::condition_variable cv_space;  // producer: the queue has room, or failure
    std::condition_variable cv_idle;   // producer: a worker finished a job or committed
    std::deque<Job> queue;
    size_t queued_bytes = 0;
    std::set<std::string> opening;  // tables whose opening job is queued or running: their INSERTs wait
    std::set<std::string> empty;    // tables created by an opening job that had no INSERT: the next is a first
    unsigned busy = 0;       // workers executing a job
    unsigned open_txns = 0;  // workers holding an uncommitted transaction
    bool stop = false;
    std::exception_ptr error;

    // Producer only: a CREATE TABLE held back until the next statement shows whether the table's first INSERT
    // can go with it (an opening job while held, an empty Job otherwise).
    Job held_job;

    bool all_done() const { return queue.empty() && busy == 0 && open_txns == 0; }

    void fail(const std::string& table, const std::exception& e) {
        std::lock_guard<std::mutex> lk(mu);
        if (!error) error = load_failure(table, e);
        queue.clear();
        queued_bytes = 0;
        cv_space.notify_all();
        cv_idle.notify_all();
        cv_work.notify_all();
    }

    void rethrow_if_failed() {
        if (error) std::rethrow_exception(error);
    }

    // Queues `job` once there is room (a job larger than the limit still enters an empty queue).
    void enqueue(std::unique_lock<std::mutex>& lk, Job&& job) {
        const size_t size = job.bytes();
        cv_space.wait(lk, [&] { return error || queue.empty() || queued_bytes + size <= kQueueLimit; });
        rethrow_if_failed();
        if (job.opening) opening.insert(job.table);
        queued_bytes += size;
        queue.push_back(std::move(job));
        cv_work.notify_one();
    }

    bool holding() const { return held_job.opening; }

    void release_held(std::unique_lock<std::mutex>& lk) {
        if (!holding()) return;
        Job job = std::move(held_job);
        held_job = Job();
        enqueue(lk, std::move(job));
    }

    // Runs an opening job on c, which holds no open transaction.
    void run_opening(Connection& c, const Job& job) {
        if (!job.create.empty()) c.execute(job.create);
        if (job.sql.empty()) return;
        c.execute("START TRANSACTION");
        try {
            c.execute(job.sql);
            c.execute("COMMIT");
        } catch (...) {
            try {
                c.execute("ROLLBACK");
            } catch (const std::exception&) {
            }
            throw;
        }
    }

    void worker(Connection& c) {
        mysql_thread_init();
        bool in_txn = false;
        size_t txn_bytes = 0;
        std::string txn_table;
        std::unique_lock<std::mutex> lk(mu);
        for (;;) {
            if (stop) break;
            if (error || queue.empty()) {
                if (in_txn) {
                    // Idle (or failed): finish the open transaction before sleeping.
                    bool failed = static_cast<bool>(error);
                    lk.unlock();
                    try {
                        c.execute(failed ? "ROLLBACK" : "COMMIT");
                    } catch (const std::exception& e) {
                        if (!failed) fail(txn_table, e);
                    }
                    lk.lock();
                    in_txn = false;
                    txn_bytes = 0;
                    --open_txns;
                    cv_idle.notify_all();
                    continue;
                }
                cv_work.wait(lk);
                continue;
            }
            Job job = std::move(queue.front());
            queue.pop_front();
            queued_bytes -= job.bytes();
            ++busy;
            cv_space.notify_one();
            const bool was_in_txn = in_txn;
            lk.unlock();

            bool ok = false;
            try {
                if (job.opening) {
                    if (in_txn) {
                        c.execute("COMMIT");
                        in_txn = false;
                        txn_bytes = 0;
                    }
                    run_opening(c, job);
                } else {
                    if (!in_txn) {
                        c.execute("START TRANSACTION");
                        in_txn = true;
                        txn_table = job.table;
                    }
                    c.execute(job.sql);
                    txn_bytes += job.sql.size();
                    if (txn_bytes >= kCommitBytes) {
                        c.execute("COMMIT");
                        in_txn = false;
                        txn_bytes = 0;
                    }
                }
                ok = true;
            } catch (const std::exception& e) {
                fail(job.table, e);
            }
            std::string table = std::move(job.table);
            const bool opened_empty = job.opening && job.sql.empty();
            const bool was_opening = job.opening;
            job = Job();  // free the SQL outside the lock

            lk.lock();
            if (in_txn != was_in_txn) {
                if (in_txn)
                    ++open_txns;
                else
                    --open_txns;
            }
            if (was_opening) {
                opening.erase(table);
                if (ok && opened_empty) empty.insert(table);
            }
            --busy;
            cv_idle.notify_all();
        }
        lk.unlock();
        mysql_thread_end();
    }

    void shutdown() noexcept {
        {
            std::lock_guard<std::mutex> lk(mu);
            stop = true;
            queue.clear();
            queued_bytes = 0;
        }
        cv_work.notify_all();
        cv_space.notify_all();
        cv_idle.notify_all();
        for (auto& t : threads)
            if (t.joinable()) t.join();
        threads.clear();
        conns.clear();  // closing a connection rolls back whatever it had open
    }
};

ParallelLoader::ParallelLoader(const DbConfig& cfg, unsigned threads) : impl_(std::make_unique<Impl>()) {
    if (threads == 0) threads = 1;
    for (unsigned i = 0; i < threads; ++i) {
        impl_->conns.push_back(std::make_unique<Connection>(cfg));
        set_up_load_session(*impl_->conns.back());
    }
    try {
        for (unsigned i = 0; i < threads; ++i) {
            Connection* c = impl_->conns[i].get();
            impl_->threads.emplace_back([this, c] { impl_->worker(*c); });
        }
    } catch (...) {
        impl_->shutdown();
        throw;
    }
}

ParallelLoader::~ParallelLoader() { impl_->shutdown(); }

void ParallelLoader::submit(ParsedStatement&& st) {
    Impl& d = *impl_;
    std::unique_lock<std::mutex> lk(d.mu);
    d.rethrow_if_failed();
    // A new table is opened by one job: its CREATE TABLE, then its first INSERT committed on its own. MariaDB
    // locks a whole empty InnoDB table for the first transaction that inserts into it (with unique and
    // foreign-key checks off, as here), and two connections starting on it at once can deadlock (error 1213).
    // Further INSERTs into the table wait until the opening job is done; once it holds a row, they proceed side
    // by side. Work on other tables goes on meanwhile: the end of one table overlaps the start of the next.
    if (st.kind == StatementKind::create_table) {
        d.release_held(lk);
        d.held_job.opening = true;
        d.held_job.table = std::move(st.table);
        d.held_job.create = std::move(st.sql);
        return;
    }
    if (d.holding() && d.held_job.table == st.table) {
        d.held_job.sql = std::move(st.sql);
        d.release_held(lk);
        return;
    }
    d.release_held(lk);
    d.cv_idle.wait(lk, [&] { return d.error || !d.opening.count(st.table); });
    d.rethrow_if_failed();
    Impl::Job job;
    job.table = std::move(st.table);
    job.sql = std::move(st.sql);
    job.opening = d.empty.erase(job.table) > 0;  // the first INSERT into a table created without one
    d.enqueue(lk, std::move(job));
}

void ParallelLoader::wait() {
    Impl& d = *impl_;
    std::unique_lock<std::mutex> lk(d.mu);
    d.rethrow_if_failed();
    d.release_held(lk);
    d.cv_idle.wait(lk, [&] { return d.error || d.all_done(); });
    d.rethrow_if_failed();
}

struct ChunkLoader::Impl {
    struct Job {
        std::string sql;
        std::string table;
        bool commit = false;  // the chunk's last job: its ledger row, then COMMIT
    };
    struct Worker {
        std::unique_ptr<Connection> conn;
        std::thread thread;
        std::condition_variable cv_work;  // a job arrived, or stop, or failure
        std::deque<Job> queue;
        size_t queued_bytes = 0;
        bool busy = false;  // executing a job taken from the queue
    };

    explicit Impl(size_t limit) : limit(limit) {}

    const size_t limit;
    std::vector<std::unique_ptr<Worker>> workers;
    std::mutex mu;
    std::condition_variable cv_done;  // producer: a queue has room, a job finished, or failure
    size_t current = 0;               // the worker of the open chunk (valid while open)
    bool open = false;
    std::string open_table;
    size_t turn = 0;  // where the search for the least loaded worker starts
    std::map<std::string, size_t> filled_by;  // tables begun empty, and the one worker that fills them
    bool stop = false;
    std::exception_ptr error;

    void fail(const std::string& table, const std::exception& e) {
        std::lock_guard<std::mutex> lk(mu);
        if (!error) error = load_failure(table, e);
        for (auto& w : workers) {
            w->queue.clear();
            w->queued_bytes = 0;
            w->cv_work.notify_all();
        }
        cv_done.notify_all();
    }

    void rethrow_if_failed() {
        if (error) std::rethrow_exception(error);
    }

    bool idle() const {
        for (const auto& w : workers)
            if (w->busy || !w->queue.empty()) return false;
        return true;
    }

    void push(Worker& w, Job&& job) {
        w.queued_bytes += job.sql.size();
        w.queue.push_back(std::move(job));
        w.cv_work.notify_one();
    }

    void worker(Worker& w) {
        mysql_thread_init();
        Connection& c = *w.conn;
        bool in_txn = false;
        std::unique_lock<std::mutex> lk(mu);
        for (;;) {
            if (in_txn && (stop || error)) {
                // Stopped or failed in the middle of a chunk: nothing of it may stay.
                lk.unlock();
                try {
                    c.execute("ROLLBACK");
                } catch (const std::exception&) {
                }
                lk.lock();
                in_txn = false;
                continue;
            }
            if (stop) break;
            if (error || w.queue.empty()) {
                w.cv_work.wait(lk);
                continue;
            }
            Job job = std::move(w.queue.front());
            w.queue.pop_front();
            w.queued_bytes -= job.sql.size();
            w.busy = true;
            cv_done.notify_all();
            lk.unlock();

            try {
                if (!in_txn) {
                    c.execute("START TRANSACTION");
                    in_txn = true;
                }
                c.execute(job.sql);
                if (job.commit) {
                    c.execute("COMMIT");
                    in_txn = false;
                }
            } catch (const std::exception& e) {
                fail(job.table, e);
            }
            job = Job();  // free the SQL outside the lock

            lk.lock();
            w.busy = false;
            cv_done.notify_all();
        }
        lk.unlock();
        mysql_thread_end();
    }

    void shutdown() noexcept {
        {
            std::lock_guard<std::mutex> lk(mu);
            stop = true;
            for (auto& w : workers) {
                w->queue.clear();
                w->queued_bytes = 0;
                w->cv_work.notify_all();
            }
        }
        cv_done.notify_all();
        for (auto& w : workers)
            if (w->thread.joinable()) w->thread.join();
        workers.clear();
    }
};

ChunkLoader::ChunkLoader(const DbConfig& cfg, unsigned threads, size_t queue_limit)
    : impl_(std::make_unique<Impl>(queue_limit)) {
    if (threads == 0) threads = 1;
    for (unsigned i = 0; i < threads; ++i) {
        auto w = std::make_unique<Impl::Worker>();
        w->conn = std::make_unique<Connection>(cfg);
        set_up_load_session(*w->conn);
        impl_->workers.push_back(std::move(w));
    }
    try {
        for (auto& w : impl_->workers) {
            Impl::Worker* p = w.get();
            w->thread = std::thread([this, p] { impl_->worker(*p); });
        }
    } catch (...) {
        impl_->shutdown();
        throw;
    }
}

ChunkLoader::~ChunkLoader() { impl_->shutdown(); }

void ChunkLoader::begin_chunk(const std::string& table, bool empty_table) {
    Impl& d = *impl_;
    std::lock_guard<std::mutex> lk(d.mu);
    d.rethrow_if_failed();
    if (d.open) throw Error(ErrorKind::usage, "a table chunk began before the previous one ended");
    if (auto it = d.filled_by.find(table); it != d.filled_by.end()) {
        d.current = it->second;  // see "Empty tables" in sql.hpp
    } else {
        const size_t n = d.workers.size();
        size_t best = d.turn % n;
        for (size_t i = 1; i < n; ++i) {
            size_t k = (d.turn + i) % n;
            if (d.workers[k]->queued_bytes < d.workers[best]->queued_bytes) best = k;
        }
        d.turn = best + 1;
        d.current = best;
        if (empty_table) d.filled_by[table] = best;
    }
    d.open = true;
    d.open_table = table;
}

void ChunkLoader::submit(ParsedStatement&& st) {
    Impl& d = *impl_;
    if (st.kind == StatementKind::create_table)
        throw Error(ErrorKind::usage, "CREATE TABLE is run by the caller, never queued with a chunk");
    std::unique_lock<std::mutex> lk(d.mu);
    d.rethrow_if_failed();
    if (!d.open) throw Error(ErrorKind::usage, "a statement was submitted outside a table chunk");
    Impl::Worker& w = *d.workers[d.current];
    const size_t size = st.sql.size();
    d.cv_done.wait(lk, [&] { return d.error || w.queue.empty() || w.queued_bytes + size <= d.limit; });
    d.rethrow_if_failed();
    d.push(w, Impl::Job{std::move(st.sql), std::move(st.table), false});
}

void ChunkLoader::end_chunk(std::string ledger_sql) {
    Impl& d = *impl_;
    std::lock_guard<std::mutex> lk(d.mu);
    d.rethrow_if_failed();
    if (!d.open) throw Error(ErrorKind::usage, "a table chunk ended that had not begun");
    // The ledger row is tiny: it never waits for room, so a chunk always gets its end.
    d.push(*d.workers[d.current], Impl::Job{std::move(ledger_sql), std::move(d.open_table), true});
    d.open = false;
}

void ChunkLoader::wait() {
    Impl& d = *impl_;
    std::unique_lock<std::mutex> lk(d.mu);
    if (d.open) throw Error(ErrorKind::usage, "waiting for the loader inside a table chunk");
    d.cv_done.wait(lk, [&] { return d.error || d.idle(); });
    d.rethrow_if_failed();
}

}  // namespace sitelift
