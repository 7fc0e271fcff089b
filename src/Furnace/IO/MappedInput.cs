// Opening a checkpoint file for a format parser: memory-map it with user-facing errors for the usual failures,
// run the parser, and release the map if the parser rejects the file.
using Furnace.Tensors;

namespace Furnace.IO;

public static class MappedInput
{
    public static T Parse<T>(string path, Func<MappedFile, T> parse)
    {
        MappedFile map;
        try
        {
            map = MappedFile.Open(path);
        }
        catch (FileNotFoundException)
        {
            throw new FurnaceException($"{path}: file not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new FurnaceException($"{path}: file not found");
        }
        catch (UnauthorizedAccessException)
        {
            throw new FurnaceException($"{path}: permission denied");
        }
        try
        {
            return parse(map);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }
}
