#ifndef OPENMM_SWITCHINGDP_OPENMP_RUNTIMES_H_
#define OPENMM_SWITCHINGDP_OPENMP_RUNTIMES_H_

namespace SwitchingDPPlugin {

/**
 * The thread policy of model evaluation on the CPU.
 *
 * torch runs a model's operations on its intra-op thread pool (torch.set_num_threads;
 * by default one thread per core), through its own OpenMP runtime.  deepmd-kit's op
 * library, which compressed models call (tabulate_fusion_*), brings a second copy of
 * the OpenMP runtime with a thread pool of its own.  After each parallel region an
 * OpenMP runtime's threads spin, waiting for more work; with two runtimes, each
 * one's spinning threads take the cores the other needs.  Measured on 2 cores, 192
 * atoms: the compressed float32 4 A model ran 20 steps/s with two threads and 156
 * with one.
 *
 * So deepmd-kit's operators (any OpenMP runtime in the process other than torch's)
 * run on the calling thread alone, and torch keeps its own pool: the same model then
 * ran 164 steps/s with two threads.  Their work is a small part of a model's.
 */
class OpenMPRuntimes {
public:
    /** Look for OpenMP runtimes loaded besides torch's (call after loading a library that may bring one). */
    static void discover();
    /**
     * On the calling thread, make every runtime found by discover() run its
     * parallel regions serially.  Cheap after the first call on a thread (unless a
     * runtime was found since), so it is called before every model evaluation.
     */
    static void serializeOnThisThread();
};

} // namespace SwitchingDPPlugin

#endif
