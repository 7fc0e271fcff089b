// Work dealt out over the ranks: item i of a list is done by rank i mod N, and every rank gets all the results back
// in list order (UTF-8 strings, length-prefixed in one gather). With one process it is a plain loop.
using System.Buffers.Binary;
using System.Text;

namespace Furnace.Distributed;

public static class CommunicatorExtensions
{
    /// <summary>work(items[i]) for every i, computed on rank i mod Size, returned on every rank in item order.</summary>
    public static string[] Shard<T>(this ICommunicator comm, IReadOnlyList<T> items, Func<T, string> work, string what)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(work);
        var results = new string[items.Count];
        if (comm.Size == 1)
        {
            for (int i = 0; i < items.Count; i++) results[i] = work(items[i]);
            return results;
        }
        using var mine = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        for (int i = comm.Rank; i < items.Count; i += comm.Size)
        {
            byte[] text = Encoding.UTF8.GetBytes(work(items[i]));
            BinaryPrimitives.WriteInt32LittleEndian(length, text.Length);
            mine.Write(length);
            mine.Write(text);
        }
        byte[][] all = comm.AllGather(mine.ToArray(), what);
        for (int r = 0; r < comm.Size; r++)
        {
            int at = 0;
            for (int i = r; i < items.Count; i += comm.Size)
            {
                int n = BinaryPrimitives.ReadInt32LittleEndian(all[r].AsSpan(at));
                results[i] = Encoding.UTF8.GetString(all[r], at + 4, n);
                at += 4 + n;
            }
        }
        return results;
    }
}
