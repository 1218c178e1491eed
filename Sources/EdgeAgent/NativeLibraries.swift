import CALSA
import COgg
import COpus

/// Versions of the C libraries the edge links (ALSA, Opus, Ogg), reported by `--version`
/// and `--check` so support can see what a customer's build runs on.
public enum NativeLibraries {
    public static var alsaVersion: String { String(cString: snd_asoundlib_version()) }
    public static var opusVersion: String { String(cString: opus_get_version_string()) }

    /// libogg has no version call; a stream state that initialises proves it links and works.
    public static var oggAvailable: Bool {
        var state = ogg_stream_state()
        guard ogg_stream_init(&state, 1) == 0 else { return false }
        ogg_stream_clear(&state)
        return true
    }
}
