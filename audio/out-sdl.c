/* SDL2 audio output (SDL 2.26 wiki: SDL_OpenAudioDevice with a callback). SDL calls the
 * callback on its own audio thread for each buffer of 1024 frames (about 23 ms, inside
 * the 512-2048 range SDL's maintainers recommend); the callback takes frames from the
 * mixer's ring. The format is fixed (44.1 kHz, signed 16-bit stereo): SDL converts if
 * the device wants another one. The audio subsystem is reference-counted by SDL, so it
 * coexists with the SDL display in the same process.
 */
#include <SDL.h>
#include <gio/gio.h>

#include "audio.h"
#include "output.h"

typedef struct Sdl {
    SDL_AudioDeviceID dev;
    HgAudioSink *sink;
} Sdl;

static void callback(void *opaque, Uint8 *stream, int len)
{
    Sdl *s = opaque;
    hg_audio_sink_pull(s->sink, (int16_t *)stream, (uint32_t)len / 4);
}

static void *sdl_open(HgAudioSink *sink, GError **error)
{
    if (SDL_InitSubSystem(SDL_INIT_AUDIO) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "SDL cannot start its audio: %s",
                    SDL_GetError());
        return NULL;
    }
    Sdl *s = g_new0(Sdl, 1);
    s->sink = sink;
    SDL_AudioSpec want = {0}, have;
    want.freq = sink->rate;
    want.format = AUDIO_S16LSB;
    want.channels = 2;
    want.samples = 1024;
    want.callback = callback;
    want.userdata = s;
    s->dev = SDL_OpenAudioDevice(NULL, 0, &want, &have, 0);
    if (!s->dev) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "SDL cannot open an audio device: %s",
                    SDL_GetError());
        g_free(s);
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
        return NULL;
    }
    SDL_PauseAudioDevice(s->dev, 0);
    return s;
}

static void sdl_close(void *state)
{
    Sdl *s = state;
    if (!s)
        return;
    SDL_CloseAudioDevice(s->dev);
    SDL_QuitSubSystem(SDL_INIT_AUDIO);
    g_free(s);
}

const HgAudioBackend hg_audio_backend_sdl = {"sdl", sdl_open, sdl_close, NULL};
