/* A stand-in for MPICH's libmpi.so.12, for machines without MPI (scripts/gpu-wheelhouse.sh
 * builds it; scripts/gpu-check.sh puts it on the loader path).
 *
 * deepmd-kit's PyTorch op library (libdeepmd_op_pt.so) links libmpi.so.12 for the
 * border operator of multi-rank LAMMPS runs, so it cannot load without one; a single
 * process (OpenMM, this plugin) never calls into it.  These are the nine functions
 * that library needs, with MPICH's types (handles are ints): the queries answer for
 * one rank outside any MPI run, and every communication call returns an error, since
 * none can happen here.
 *
 *   gcc -O2 -shared -fPIC -nostdlib -Wl,-soname,libmpi.so.12 -o libmpi.so.12 mpi-stub.c
 */
#define STUB_SUCCESS 0
#define STUB_ERR_OTHER 15 /* MPICH's MPI_ERR_OTHER */

typedef int Handle;

int MPI_Initialized(int *flag) {
    *flag = 0; /* MPI_Init never ran */
    return STUB_SUCCESS;
}

int MPI_Comm_rank(Handle comm, int *rank) {
    (void)comm;
    *rank = 0;
    return STUB_SUCCESS;
}

int MPI_Comm_size(Handle comm, int *size) {
    (void)comm;
    *size = 1;
    return STUB_SUCCESS;
}

int MPI_Barrier(Handle comm) {
    (void)comm;
    return STUB_SUCCESS; /* one rank: nothing to wait for */
}

int MPI_Allreduce(const void *send, void *receive, int count, Handle type, Handle op, Handle comm) {
    (void)send; (void)receive; (void)count; (void)type; (void)op; (void)comm;
    return STUB_ERR_OTHER;
}

int MPI_Irecv(void *buffer, int count, Handle type, int source, int tag, Handle comm, Handle *request) {
    (void)buffer; (void)count; (void)type; (void)source; (void)tag; (void)comm; (void)request;
    return STUB_ERR_OTHER;
}

int MPI_Send(const void *buffer, int count, Handle type, int destination, int tag, Handle comm) {
    (void)buffer; (void)count; (void)type; (void)destination; (void)tag; (void)comm;
    return STUB_ERR_OTHER;
}

int MPI_Wait(Handle *request, void *status) {
    (void)request; (void)status;
    return STUB_ERR_OTHER;
}

int MPIX_Query_cuda_support(void) {
    return 0; /* no CUDA-aware MPI */
}
