/* Output backends this build was configured without (meson options pulse and sdl): the
 * names stay known, so --audio explains what to install instead of "unknown output". */
#include "output.h"

#ifndef HG_HAVE_PULSE
const HgAudioBackend hg_audio_backend_pulse = {"pulse", NULL, NULL, NULL};
#endif
#ifndef HG_HAVE_SDL_AUDIO
const HgAudioBackend hg_audio_backend_sdl = {"sdl", NULL, NULL, NULL};
#endif
