#include "OpenMPRuntimes.h"
#include <dlfcn.h>
#include <link.h>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

using namespace SwitchingDPPlugin;

namespace {

typedef void (*SetNumThreads)(int);

struct Registry {
    std::mutex mutex;
    std::string torch;                     // torch's runtime, never serialized
    std::vector<std::string> files;        // foreign runtimes
    std::vector<SetNumThreads> setters;    // their omp_set_num_threads
    std::atomic<int> generation{0};        // bumped when a runtime is added
};

Registry& registry() {
    static Registry instance;
    return instance;
}

/** The file that defines `address`, or empty. */
std::string definingFile(void* address) {
    Dl_info info;
    if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr)
        return "";
    return info.dli_fname;
}

/** torch's OpenMP runtime: where the omp_get_max_threads that libtorch_cpu binds to is defined. */
std::string findTorchRuntime() {
    void* torchCpu = dlopen("libtorch_cpu.so", RTLD_LAZY | RTLD_NOLOAD);
    if (torchCpu == nullptr)
        return "";
    std::string file = definingFile(dlsym(torchCpu, "omp_get_max_threads"));
    dlclose(torchCpu);
    return file;
}

int collectLoadedObject(struct dl_phdr_info* info, size_t, void* data) {
    const char* name = info->dlpi_name;
    if (name != nullptr && *name != 0) {
        const char* base = std::strrchr(name, '/');
        base = (base == nullptr ? name : base + 1);
        // GNU (libgomp*), LLVM (libomp*) and Intel (libiomp5*) OpenMP runtimes.
        if (std::strncmp(base, "libgomp", 7) == 0 || std::strncmp(base, "libomp", 6) == 0 ||
                std::strncmp(base, "libiomp", 7) == 0)
            static_cast<std::vector<std::string>*>(data)->push_back(name);
    }
    return 0;
}

} // namespace

void OpenMPRuntimes::discover() {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.torch.empty())
        r.torch = findTorchRuntime();
    std::vector<std::string> loaded;
    dl_iterate_phdr(collectLoadedObject, &loaded);
    for (const std::string& file : loaded) {
        bool known = false;
        for (const std::string& f : r.files)
            known = known || f == file;
        if (known || file == r.torch)
            continue;
        void* handle = dlopen(file.c_str(), RTLD_LAZY | RTLD_NOLOAD);
        if (handle == nullptr)
            continue;
        void* setter = dlsym(handle, "omp_set_num_threads");
        // Only a runtime that defines the function itself (dlsym also searches its dependencies).
        if (setter != nullptr && definingFile(setter) == file) {
            r.files.push_back(file);
            r.setters.push_back(reinterpret_cast<SetNumThreads>(setter));
            r.generation++;
        }
        // The handle stays open: the runtime is in use, and the setter must stay valid.
    }
}

void OpenMPRuntimes::serializeOnThisThread() {
    thread_local int applied = 0;
    Registry& r = registry();
    int generation = r.generation.load(std::memory_order_acquire);
    if (generation == applied)
        return;
    std::lock_guard<std::mutex> lock(r.mutex);
    // omp_set_num_threads sets the calling thread's default team size: a parallel
    // region this thread starts in that runtime then runs on this thread alone.
    for (SetNumThreads setter : r.setters)
        setter(1);
    applied = r.generation.load();
}
