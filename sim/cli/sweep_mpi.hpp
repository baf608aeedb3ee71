// The ranks of an `mpirun -n N moesim sweep ...` job (OpenMPI, an optional build feature: MOESIM_MPI).
// Rank 0 prepares the sweep and writes the one result file; every rank runs its share of the points and
// sends each finished point's lines to rank 0. Without mpirun this is a world of one and calls no MPI.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace moesim::cli {

class MpiWorld {
 public:
  // Joins the job when launched by mpirun (OMPI_COMM_WORLD_SIZE or PMI_SIZE > 1), otherwise a world of
  // one. A binary built without MPI that finds itself launched as several ranks throws Error: each rank
  // would run the whole sweep and they would all write the same file.
  static std::unique_ptr<MpiWorld> join();
  virtual ~MpiWorld() = default;

  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  // Rank 0's values replace everyone else's.
  virtual void broadcast(std::vector<int64_t>& values) {}
  // A worker (rank > 0) hands one finished point to rank 0; safe to call from several threads.
  virtual void send_point(size_t point, const std::string& lines) {}
  // A worker says it has sent all its points (`points` of them).
  virtual void send_done(size_t points) {}
  struct Message {
    bool done = false;  // a worker's "done": point holds how many points it ran
    int rank = 0;       // the sender
    size_t point = 0;
    std::string lines;
  };
  // Rank 0: waits for the next message. Polls with short sleeps rather than spinning, so that the
  // waiting costs no core the points could use.
  virtual Message receive() { return {true, 0, 0, ""}; }
  // Ends every rank (a failure on rank 0 after the points were handed out).
  [[noreturn]] virtual void abort(int code);
};

}  // namespace moesim::cli
