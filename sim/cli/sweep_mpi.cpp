#include "sweep_mpi.hpp"

#include "moesim/error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#ifdef MOESIM_HAVE_MPI
#include <mpi.h>
#endif

namespace moesim::cli {

namespace {

// Ranks announced by the launcher's environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE), 1 when none.
int launcher_ranks() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(var); v && std::atoi(v) > 0) return std::atoi(v);
  return 1;
}

}  // namespace

void MpiWorld::abort(int code) { std::exit(code); }

#ifdef MOESIM_HAVE_MPI

namespace {

constexpr int kTagPoint = 1, kTagDone = 2;

class OpenMpiWorld final : public MpiWorld {
 public:
  OpenMpiWorld() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (provided < MPI_THREAD_SERIALIZED) {
      MPI_Finalize();
      throw Error("", "mpirun", std::to_string(provided), "the MPI library does not allow calls from worker threads (MPI_THREAD_SERIALIZED)");
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~OpenMpiWorld() override { MPI_Finalize(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void broadcast(std::vector<int64_t>& values) override {
    int64_t n = int64_t(values.size());
    MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
    values.resize(size_t(n));
    if (n > 0) MPI_Bcast(values.data(), int(n), MPI_INT64_T, 0, MPI_COMM_WORLD);
  }

  // Message: 8 bytes of point index, then the lines.
  void send_point(size_t point, const std::string& lines) override {
    std::string msg(sizeof(uint64_t), '\0');
    const uint64_t p = point;
    std::memcpy(msg.data(), &p, sizeof p);
    msg += lines;
    std::lock_guard<std::mutex> lk(mu_);
    MPI_Send(msg.data(), int(msg.size()), MPI_CHAR, 0, kTagPoint, MPI_COMM_WORLD);
  }

  void send_done(size_t points) override {
    const uint64_t n = points;
    std::lock_guard<std::mutex> lk(mu_);
    MPI_Send(&n, int(sizeof n), MPI_CHAR, 0, kTagDone, MPI_COMM_WORLD);
  }

  Message receive() override {
    MPI_Status st;
    for (int flag = 0;;) {
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
      if (flag) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    int count = 0;
    MPI_Get_count(&st, MPI_CHAR, &count);
    std::string msg(size_t(count), '\0');
    MPI_Recv(msg.data(), count, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    Message m;
    m.done = st.MPI_TAG == kTagDone;
    m.rank = st.MPI_SOURCE;
    uint64_t p = 0;
    std::memcpy(&p, msg.data(), std::min(sizeof p, msg.size()));
    m.point = size_t(p);
    if (!m.done) m.lines = msg.substr(sizeof p);
    return m;
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);
  }

 private:
  int rank_ = 0, size_ = 1;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<MpiWorld> MpiWorld::join() {
  if (launcher_ranks() <= 1) return std::make_unique<MpiWorld>();
  return std::make_unique<OpenMpiWorld>();
}

#else

std::unique_ptr<MpiWorld> MpiWorld::join() {
  const int n = launcher_ranks();
  if (n > 1)
    throw Error("", "mpirun", std::to_string(n) + " ranks",
                "this moesim was built without MPI, so every rank would run the whole sweep and write the same file; "
                "install OpenMPI (apt-get install libopenmpi-dev openmpi-bin) and rebuild (cmake -DMOESIM_MPI=ON), "
                "or run moesim sweep without mpirun");
  return std::make_unique<MpiWorld>();
}

#endif

}  // namespace moesim::cli
