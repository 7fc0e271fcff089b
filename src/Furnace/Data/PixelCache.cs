// A disk cache of preprocessed images: one .npy float32 (3, H, W) per (image file, preprocessing), so later epochs
// and later runs skip decoding and resizing. The key hashes the image's absolute path, size and modification
// time and the preprocessing config, so an edited image or a changed config misses instead of serving stale
// pixels. Entries are written atomically (temp file + rename; concurrent writers of one key are harmless) and
// checked on read (magic, header, dtype, shape, exact length, finite values): a damaged entry is rebuilt.
using System.Security.Cryptography;
using System.Text;
using Furnace.Formats.Images;
using Furnace.Formats.Npy;

namespace Furnace.Data;

public sealed class PixelCache
{
    private long _hits;
    private long _misses;
    private long _rebuilt;

    public PixelCache(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory = Path.GetFullPath(directory);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FurnaceException($"{directory}: cannot create the pixel cache folder ({e.Message})");
        }
    }

    public string Directory { get; }

    /// <summary>Reads served from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Entries built because none was there.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Entries built again because the stored one was damaged.</summary>
    public long Rebuilt => Interlocked.Read(ref _rebuilt);

    /// <summary>The cache file for an image under a preprocessing key (ImagePipeline.ConfigKey):
    /// DIR/ab/cdef….npy, from SHA-256 of path, size, mtime and key.</summary>
    public string EntryPath(string imagePath, string configKey)
    {
        var info = new FileInfo(imagePath);
        if (!info.Exists) throw new FurnaceException($"{imagePath}: no such file");
        string material = $"furnace-pixels-v1\n{info.FullName}\n{info.Length}\n{info.LastWriteTimeUtc.Ticks}\n{configKey}";
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(material)));
        return Path.Combine(Directory, hash[..2], hash[2..] + ".npy");
    }

    /// <summary>The cached pixels of an image, or <paramref name="build"/>'s, stored for next time.</summary>
    public PixelValues GetOrAdd(string imagePath, string configKey, Func<PixelValues> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        string entry = EntryPath(imagePath, configKey);
        bool existed = File.Exists(entry);
        if (existed && TryRead(entry) is { } cached)
        {
            Interlocked.Increment(ref _hits);
            return cached;
        }
        Interlocked.Increment(ref existed ? ref _rebuilt : ref _misses);
        PixelValues px = build();
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(entry)!);
        NpyWriter.WriteFloat32(entry, px.Shape, px.Data);
        return px;
    }

    private static PixelValues? TryRead(string entry)
    {
        try
        {
            var (shape, data) = NpyReader.ReadFloat32(entry);
            if (shape.Length != 3 || shape[0] != 3 || shape[1] <= 0 || shape[2] <= 0) return null;
            foreach (float v in data)
            {
                if (!float.IsFinite(v)) return null;
            }
            return new PixelValues(shape[0], shape[1], shape[2], data);
        }
        catch (Exception e) when (e is FurnaceException or IOException)
        {
            return null;
        }
    }
}
