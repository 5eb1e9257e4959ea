// Parallel execution of parsed table-file statements.
//
// Thread model: one producer (the caller of submit()/wait()) and N workers, each owning one connection opened
// in the constructor (so a bad password fails there, not later in a thread). INSERTs go through one FIFO
// bounded by bytes; a worker takes the next statement, runs it inside its own explicit transaction and
// commits once it has run kCommitBytes of SQL, or whenever it finds the queue empty (so wait() never has to
// poke it). CREATE TABLE is a barrier: everything queued before it is executed and committed, then one worker
// runs it alone. The first failure is kept, the queue is emptied, and it is rethrown from every later
// submit()/wait(); workers roll back what they had open.
#include <mysql.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "error.hpp"
#include "sql.hpp"

namespace sitelift {

namespace {
constexpr size_t kQueueLimit = 16u << 20;  // bytes of SQL waiting in the queue
constexpr size_t kCommitBytes = 8u << 20;  // bytes of SQL per transaction
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
    std::vector<std::unique_ptr<Connection>> conns;
    std::vector<std::thread> threads;

    std::mutex mu;
    std::condition_variable cv_work;   // workers: a job arrived, or stop
    std::condition_variable cv_space;  // producer: the queue has room, or failure
    std::condition_variable cv_idle;   // producer: a worker finished a job or committed
    std::deque<ParsedStatement> queue;
    size_t queued_bytes = 0;
    unsigned busy = 0;       // workers executing a job
    unsigned open_txns = 0;  // workers holding an uncommitted transaction
    bool stop = false;
    std::exception_ptr error;

    bool all_done() const { return queue.empty() && busy == 0 && open_txns == 0; }

    void fail(const std::string& table, const std::exception& e) {
        std::lock_guard<std::mutex> lk(mu);
        if (!error) {
            std::string msg = table.empty() ? std::string("loading table data: ")
                                            : "loading table " + quote_identifier(table) + ": ";
            const Error* err = dynamic_cast<const Error*>(&e);
            error = std::make_exception_ptr(Error(err ? err->kind() : ErrorKind::database, msg + e.what()));
        }
        queue.clear();
        queued_bytes = 0;
        cv_space.notify_all();
        cv_idle.notify_all();
        cv_work.notify_all();
    }

    void rethrow_if_failed() {
        if (error) std::rethrow_exception(error);
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
            ParsedStatement job = std::move(queue.front());
            queue.pop_front();
            queued_bytes -= job.sql.size();
            ++busy;
            cv_space.notify_one();
            const bool was_in_txn = in_txn;
            lk.unlock();

            try {
                if (job.kind == StatementKind::create_table) {
                    if (in_txn) {
                        c.execute("COMMIT");
                        in_txn = false;
                        txn_bytes = 0;
                    }
                    c.execute(job.sql);
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
            } catch (const std::exception& e) {
                fail(job.table, e);
            }
            job = ParsedStatement();  // free the SQL outside the lock

            lk.lock();
            if (in_txn != was_in_txn) {
                if (in_txn)
                    ++open_txns;
                else
                    --open_txns;
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
    if (st.kind == StatementKind::create_table) {
        d.cv_idle.wait(lk, [&] { return d.error || d.all_done(); });
        d.rethrow_if_failed();
        d.queue.push_back(std::move(st));
        d.cv_work.notify_one();
        d.cv_idle.wait(lk, [&] { return d.error || d.all_done(); });
        d.rethrow_if_failed();
        return;
    }
    const size_t size = st.sql.size();
    d.cv_space.wait(lk, [&] { return d.error || d.queue.empty() || d.queued_bytes + size <= kQueueLimit; });
    d.rethrow_if_failed();
    d.queued_bytes += size;
    d.queue.push_back(std::move(st));
    d.cv_work.notify_one();
}

void ParallelLoader::wait() {
    Impl& d = *impl_;
    std::unique_lock<std::mutex> lk(d.mu);
    d.cv_idle.wait(lk, [&] { return d.error || d.all_done(); });
    d.rethrow_if_failed();
}

}  // namespace sitelift
