namespace ServerV3.Engine.Model;

/// <summary>Receives named intermediate tensors of a forward pass (tests compare them with the golden data).</summary>
public interface IActivationObserver
{
    void Observe(string name, int rows, int cols, float[] values);
}
