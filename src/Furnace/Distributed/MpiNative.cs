// The few MPI-3 entry points Furnace needs, called straight in Open MPI's libmpi.so (Debian's openmpi-bin /
// libopenmpi-dev 4.1). Open MPI's ABI differs from MPICH's: MPI_Comm, MPI_Datatype, MPI_Op and MPI_Errhandler are
// pointers to global objects (ompi_mpi_comm_world, ompi_mpi_float, ompi_mpi_op_sum, ompi_mpi_errors_return…), so the
// predefined handles are the addresses of those exports, resolved once with NativeLibrary.GetExport. MPI_Request is a
// pointer too; MPI_STATUS_IGNORE is NULL and MPI_IN_PLACE is (void*)1. The library is opened RTLD_GLOBAL, as Open
// MPI's own plugins (mca_*.so) resolve their symbols against it. Only non-blocking collectives are used, so that a
// wait can time out (MpiCommunicator polls MPI_Test).
using System.Runtime.InteropServices;

namespace Furnace.Distributed;

internal static class MpiNative
{
    public const string Library = "libmpi.so.40";
    public const int Success = 0;
    public const int AnySource = -1;
    public static readonly IntPtr InPlace = 1;

    private static IntPtr _handle;

    public static IntPtr CommWorld { get; private set; }

    public static IntPtr Float { get; private set; }

    public static IntPtr Double { get; private set; }

    public static IntPtr Byte { get; private set; }

    public static IntPtr Int { get; private set; }

    public static IntPtr Sum { get; private set; }

    public static IntPtr ErrorsReturn { get; private set; }

    /// <summary>Opens libmpi (RTLD_NOW | RTLD_GLOBAL) and resolves the predefined handles; a clear error when missing.</summary>
    public static void Load()
    {
        if (_handle != IntPtr.Zero) return;
        IntPtr h = IntPtr.Zero;
        foreach (string name in new[] { Library, "libmpi.so" })
        {
            h = dlopen(name, RtldNow | RtldGlobal);
            if (h != IntPtr.Zero) break;
        }
        if (h == IntPtr.Zero)
            throw new FurnaceException($"started by an MPI launcher, but Open MPI's {Library} cannot be loaded ({Marshal.PtrToStringUTF8(dlerror()) ?? "not found"}); install openmpi-bin (Debian: apt-get install openmpi-bin)");
        NativeLibrary.SetDllImportResolver(typeof(MpiNative).Assembly, (name, _, _) => name == Library ? h : IntPtr.Zero);
        CommWorld = Export(h, "ompi_mpi_comm_world");
        Float = Export(h, "ompi_mpi_float");
        Double = Export(h, "ompi_mpi_double");
        Byte = Export(h, "ompi_mpi_byte");
        Int = Export(h, "ompi_mpi_int");
        Sum = Export(h, "ompi_mpi_op_sum");
        ErrorsReturn = Export(h, "ompi_mpi_errors_return");
        _handle = h;
    }

    private static IntPtr Export(IntPtr lib, string name) =>
        NativeLibrary.TryGetExport(lib, name, out IntPtr p) ? p
            : throw new FurnaceException($"{Library} has no symbol {name}: it is not Open MPI (Furnace speaks Open MPI's ABI; MPICH is not supported)");

    private const int RtldNow = 2, RtldGlobal = 0x100;

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern IntPtr dlopen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    [DllImport("libc", EntryPoint = "dlerror")]
    private static extern IntPtr dlerror();

    [DllImport(Library)] public static extern int MPI_Initialized(out int flag);

    [DllImport(Library)] public static extern int MPI_Finalized(out int flag);

    [DllImport(Library)] public static extern int MPI_Init(IntPtr argc, IntPtr argv);

    [DllImport(Library)] public static extern int MPI_Finalize();

    [DllImport(Library)] public static extern int MPI_Abort(IntPtr comm, int errorcode);

    [DllImport(Library)] public static extern int MPI_Comm_rank(IntPtr comm, out int rank);

    [DllImport(Library)] public static extern int MPI_Comm_size(IntPtr comm, out int size);

    [DllImport(Library)] public static extern int MPI_Comm_set_errhandler(IntPtr comm, IntPtr errhandler);

    [DllImport(Library)] public static extern int MPI_Iallreduce(IntPtr sendbuf, IntPtr recvbuf, int count, IntPtr datatype, IntPtr op, IntPtr comm, out IntPtr request);

    [DllImport(Library)] public static extern int MPI_Iallgather(IntPtr sendbuf, int sendcount, IntPtr sendtype, IntPtr recvbuf, int recvcount, IntPtr recvtype, IntPtr comm, out IntPtr request);

    [DllImport(Library)] public static extern int MPI_Iallgatherv(IntPtr sendbuf, int sendcount, IntPtr sendtype, IntPtr recvbuf, int[] recvcounts, int[] displs, IntPtr recvtype, IntPtr comm, out IntPtr request);

    [DllImport(Library)] public static extern int MPI_Ibcast(IntPtr buffer, int count, IntPtr datatype, int root, IntPtr comm, out IntPtr request);

    [DllImport(Library)] public static extern int MPI_Ibarrier(IntPtr comm, out IntPtr request);

    [DllImport(Library)] public static extern int MPI_Isend(IntPtr buf, int count, IntPtr datatype, int dest, int tag, IntPtr comm, out IntPtr request);

    [DllImport(Library)] public static extern int MPI_Irecv(IntPtr buf, int count, IntPtr datatype, int source, int tag, IntPtr comm, out IntPtr request);

    [DllImport(Library)] public static extern int MPI_Test(ref IntPtr request, out int flag, IntPtr status);

    [DllImport(Library)] public static extern int MPI_Error_string(int errorcode, byte[] text, out int length);

    public static string ErrorText(int code)
    {
        var buf = new byte[512];
        return MPI_Error_string(code, buf, out int n) == Success ? System.Text.Encoding.UTF8.GetString(buf, 0, n) : $"MPI error {code}";
    }
}
