// The order of the colour planes a graph expects: RGB (PyTorch, Hugging Face) or BGR (Caffe, CNTK, OpenCV).
namespace Furnace.Models.Onnx;

public enum ChannelOrder
{
    Rgb,
    Bgr,
}
