/* hangar-run's SDL2 window: the machine's display surface in a window, keyboard by
 * scancode, mouse with grab, scaling and fullscreen. See sdl-display.h for how it shares
 * the main thread with hangar-run's GLib main loop.
 *
 * Keyboard: SDL scancodes are USB HID usage IDs (USB HID Usage Tables 1.12, page 0x07),
 * independent of the host's layout; they map one to one onto the physical keys of a PC
 * keyboard, whose set-1 make codes (IBM PC AT / PS/2 keyboard reference, scan code set 1)
 * are what the engine's input path takes. The guest applies its own layout.
 */
#include <SDL.h>
#include <gio/gio.h>
#include <string.h>

#include "display.h"
#include "sdl-display.h"

enum {
    FRAME_MS = 16, /* event polling and redraw period: about 60 Hz */
    KEY_SLOTS = 0x300,
};

struct HgSdlDisplay {
    HgMachine *machine;
    HgDisplay *display;
    HgDisplayConsumer *consumer; /* our own dirty region and notifier (display.h) */
    HgSdlCloseFn on_close;
    void *opaque;
    SDL_Window *window;
    SDL_Renderer *renderer;
    SDL_Texture *texture;
    uint32_t *shadow; /* the surface as last copied, tex_w x tex_h */
    int tex_w, tex_h;
    uint64_t generation; /* of the surface the texture holds */
    bool have_generation;
    Uint32 refresh_event; /* our SDL user event type */
    gint posted;          /* a refresh event is queued (atomic) */
    guint timer;
    bool grabbed, fullscreen;
    bool needs_present;
    /* The release chord: Ctrl and Alt both went down, and no other key since. */
    bool chord_armed, chord_used;
    unsigned buttons;
    bool down[KEY_SLOTS]; /* PC key codes the guest currently sees pressed */
};

/* --- Keyboard ---------------------------------------------------------------------- */

#define E0(c) (HG_KEYCODE_E0 | (c))

unsigned hg_sdl_scancode_to_pc(int sc)
{
    /* Letters and digits come in runs in both code spaces' orders only partly: a table
     * for everything keeps it checkable against the PC105 layout key by key. */
    switch (sc) {
    case SDL_SCANCODE_A: return 0x1e;
    case SDL_SCANCODE_B: return 0x30;
    case SDL_SCANCODE_C: return 0x2e;
    case SDL_SCANCODE_D: return 0x20;
    case SDL_SCANCODE_E: return 0x12;
    case SDL_SCANCODE_F: return 0x21;
    case SDL_SCANCODE_G: return 0x22;
    case SDL_SCANCODE_H: return 0x23;
    case SDL_SCANCODE_I: return 0x17;
    case SDL_SCANCODE_J: return 0x24;
    case SDL_SCANCODE_K: return 0x25;
    case SDL_SCANCODE_L: return 0x26;
    case SDL_SCANCODE_M: return 0x32;
    case SDL_SCANCODE_N: return 0x31;
    case SDL_SCANCODE_O: return 0x18;
    case SDL_SCANCODE_P: return 0x19;
    case SDL_SCANCODE_Q: return 0x10;
    case SDL_SCANCODE_R: return 0x13;
    case SDL_SCANCODE_S: return 0x1f;
    case SDL_SCANCODE_T: return 0x14;
    case SDL_SCANCODE_U: return 0x16;
    case SDL_SCANCODE_V: return 0x2f;
    case SDL_SCANCODE_W: return 0x11;
    case SDL_SCANCODE_X: return 0x2d;
    case SDL_SCANCODE_Y: return 0x15;
    case SDL_SCANCODE_Z: return 0x2c;
    case SDL_SCANCODE_1: return 0x02;
    case SDL_SCANCODE_2: return 0x03;
    case SDL_SCANCODE_3: return 0x04;
    case SDL_SCANCODE_4: return 0x05;
    case SDL_SCANCODE_5: return 0x06;
    case SDL_SCANCODE_6: return 0x07;
    case SDL_SCANCODE_7: return 0x08;
    case SDL_SCANCODE_8: return 0x09;
    case SDL_SCANCODE_9: return 0x0a;
    case SDL_SCANCODE_0: return 0x0b;
    case SDL_SCANCODE_RETURN: return 0x1c;
    case SDL_SCANCODE_ESCAPE: return 0x01;
    case SDL_SCANCODE_BACKSPACE: return 0x0e;
    case SDL_SCANCODE_TAB: return 0x0f;
    case SDL_SCANCODE_SPACE: return 0x39;
    case SDL_SCANCODE_MINUS: return 0x0c;
    case SDL_SCANCODE_EQUALS: return 0x0d;
    case SDL_SCANCODE_LEFTBRACKET: return 0x1a;
    case SDL_SCANCODE_RIGHTBRACKET: return 0x1b;
    /* The key above Enter (US) and the one left of Enter (ISO, reported as "non-US #")
     * are the same PC key position, make code 0x2B. */
    case SDL_SCANCODE_BACKSLASH: return 0x2b;
    case SDL_SCANCODE_NONUSHASH: return 0x2b;
    case SDL_SCANCODE_SEMICOLON: return 0x27;
    case SDL_SCANCODE_APOSTROPHE: return 0x28;
    case SDL_SCANCODE_GRAVE: return 0x29;
    case SDL_SCANCODE_COMMA: return 0x33;
    case SDL_SCANCODE_PERIOD: return 0x34;
    case SDL_SCANCODE_SLASH: return 0x35;
    case SDL_SCANCODE_CAPSLOCK: return 0x3a;
    case SDL_SCANCODE_F1: return 0x3b;
    case SDL_SCANCODE_F2: return 0x3c;
    case SDL_SCANCODE_F3: return 0x3d;
    case SDL_SCANCODE_F4: return 0x3e;
    case SDL_SCANCODE_F5: return 0x3f;
    case SDL_SCANCODE_F6: return 0x40;
    case SDL_SCANCODE_F7: return 0x41;
    case SDL_SCANCODE_F8: return 0x42;
    case SDL_SCANCODE_F9: return 0x43;
    case SDL_SCANCODE_F10: return 0x44;
    case SDL_SCANCODE_F11: return 0x57;
    case SDL_SCANCODE_F12: return 0x58;
    case SDL_SCANCODE_PRINTSCREEN: return E0(0x37);
    case SDL_SCANCODE_SYSREQ: return 0x54; /* Alt+Print Screen */
    case SDL_SCANCODE_SCROLLLOCK: return 0x46;
    case SDL_SCANCODE_PAUSE: return HG_KEYCODE_PAUSE;
    case SDL_SCANCODE_INSERT: return E0(0x52);
    case SDL_SCANCODE_HOME: return E0(0x47);
    case SDL_SCANCODE_PAGEUP: return E0(0x49);
    case SDL_SCANCODE_DELETE: return E0(0x53);
    case SDL_SCANCODE_END: return E0(0x4f);
    case SDL_SCANCODE_PAGEDOWN: return E0(0x51);
    case SDL_SCANCODE_RIGHT: return E0(0x4d);
    case SDL_SCANCODE_LEFT: return E0(0x4b);
    case SDL_SCANCODE_DOWN: return E0(0x50);
    case SDL_SCANCODE_UP: return E0(0x48);
    case SDL_SCANCODE_NUMLOCKCLEAR: return 0x45;
    case SDL_SCANCODE_KP_DIVIDE: return E0(0x35);
    case SDL_SCANCODE_KP_MULTIPLY: return 0x37;
    case SDL_SCANCODE_KP_MINUS: return 0x4a;
    case SDL_SCANCODE_KP_PLUS: return 0x4e;
    case SDL_SCANCODE_KP_ENTER: return E0(0x1c);
    case SDL_SCANCODE_KP_1: return 0x4f;
    case SDL_SCANCODE_KP_2: return 0x50;
    case SDL_SCANCODE_KP_3: return 0x51;
    case SDL_SCANCODE_KP_4: return 0x4b;
    case SDL_SCANCODE_KP_5: return 0x4c;
    case SDL_SCANCODE_KP_6: return 0x4d;
    case SDL_SCANCODE_KP_7: return 0x47;
    case SDL_SCANCODE_KP_8: return 0x48;
    case SDL_SCANCODE_KP_9: return 0x49;
    case SDL_SCANCODE_KP_0: return 0x52;
    case SDL_SCANCODE_KP_PERIOD: return 0x53;
    case SDL_SCANCODE_KP_COMMA: return 0x7e; /* Brazilian keypad "." */
    case SDL_SCANCODE_KP_EQUALS: return 0x59;
    /* The 105th key: between left Shift and Z on ISO keyboards (< > |, \ |). */
    case SDL_SCANCODE_NONUSBACKSLASH: return 0x56;
    case SDL_SCANCODE_APPLICATION: return E0(0x5d);
    case SDL_SCANCODE_LCTRL: return 0x1d;
    case SDL_SCANCODE_LSHIFT: return 0x2a;
    case SDL_SCANCODE_LALT: return 0x38;
    case SDL_SCANCODE_LGUI: return E0(0x5b);
    case SDL_SCANCODE_RCTRL: return E0(0x1d);
    case SDL_SCANCODE_RSHIFT: return 0x36;
    case SDL_SCANCODE_RALT: return E0(0x38);
    case SDL_SCANCODE_RGUI: return E0(0x5c);
    /* Japanese and Korean keys of the 106/107-key layouts. */
    case SDL_SCANCODE_INTERNATIONAL1: return 0x73; /* Ro */
    case SDL_SCANCODE_INTERNATIONAL2: return 0x70; /* Katakana/Hiragana */
    case SDL_SCANCODE_INTERNATIONAL3: return 0x7d; /* Yen */
    case SDL_SCANCODE_INTERNATIONAL4: return 0x79; /* Henkan */
    case SDL_SCANCODE_INTERNATIONAL5: return 0x7b; /* Muhenkan */
    case SDL_SCANCODE_LANG1: return 0x72;          /* Hangul/English */
    case SDL_SCANCODE_LANG2:
        return 0x71; /* Hanja */
    /* Power management and the common multimedia keys (E0-prefixed in set 1). */
    case SDL_SCANCODE_POWER: return E0(0x5e);
    case SDL_SCANCODE_SLEEP: return E0(0x5f);
    case SDL_SCANCODE_AUDIOMUTE: return E0(0x20);
    case SDL_SCANCODE_VOLUMEDOWN: return E0(0x2e);
    case SDL_SCANCODE_VOLUMEUP: return E0(0x30);
    case SDL_SCANCODE_AUDIONEXT: return E0(0x19);
    case SDL_SCANCODE_AUDIOPREV: return E0(0x10);
    case SDL_SCANCODE_AUDIOSTOP: return E0(0x24);
    case SDL_SCANCODE_AUDIOPLAY: return E0(0x22);
    default: return 0;
    }
}

static void send_key(HgSdlDisplay *s, unsigned code, bool pressed)
{
    if (!code || code >= KEY_SLOTS)
        return;
    s->down[code] = pressed;
    hg_machine_send_key(s->machine, (uint16_t)code, pressed);
}

/* Focus lost: whatever the guest still sees held goes up, or it would stay pressed forever
 * (the key-up goes to another window). */
static void release_all_keys(HgSdlDisplay *s)
{
    for (unsigned c = 0; c < KEY_SLOTS; c++)
        if (s->down[c])
            send_key(s, c, false);
}

/* --- Grab and window state ------------------------------------------------------------ */

static void set_grab(HgSdlDisplay *s, bool on)
{
    if (s->grabbed == on)
        return;
    s->grabbed = on;
    /* Relative mode hides the cursor and reports motion beyond the window's edges; the
     * window grab also takes the keyboard (SDL_HINT_GRAB_KEYBOARD), so Alt+Tab and
     * friends reach the guest while grabbed. */
    SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowGrab(s->window, on ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowTitle(s->window, on ? "Hangar - press Ctrl+Alt to release the mouse" : "Hangar");
    if (!on && s->buttons) {
        s->buttons = 0;
        hg_machine_send_mouse(s->machine, 0, 0, 0, 0);
    }
}

static void toggle_fullscreen(HgSdlDisplay *s)
{
    s->fullscreen = !s->fullscreen;
    SDL_SetWindowFullscreen(s->window, s->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
}

/* From the event's own modifier state: SDL_GetModState would tell the state after the
 * whole batch of queued events, not at this key. */
static bool ctrl_and_alt(Uint16 mod)
{
    return (mod & KMOD_CTRL) && (mod & KMOD_ALT);
}

static bool is_chord_key(SDL_Scancode sc)
{
    return sc == SDL_SCANCODE_LCTRL || sc == SDL_SCANCODE_RCTRL || sc == SDL_SCANCODE_LALT ||
           sc == SDL_SCANCODE_RALT;
}

static void on_key(HgSdlDisplay *s, const SDL_KeyboardEvent *ev)
{
    SDL_Scancode sc = ev->keysym.scancode;
    bool pressed = ev->type == SDL_KEYDOWN;
    if (pressed && !ev->repeat) {
        if (is_chord_key(sc)) {
            if (ctrl_and_alt(ev->keysym.mod) && !s->chord_used)
                s->chord_armed = true;
        } else if (ctrl_and_alt(ev->keysym.mod)) {
            s->chord_armed = false;
            s->chord_used = true;
            if (sc == SDL_SCANCODE_F) {
                /* Ctrl+Alt+F is ours: the guest never sees the F. */
                toggle_fullscreen(s);
                return;
            }
        }
    }
    if (!pressed && is_chord_key(sc)) {
        if (s->chord_armed) {
            /* Ctrl+Alt alone, released: give the mouse back. */
            s->chord_armed = false;
            set_grab(s, false);
        }
        if (!(ev->keysym.mod & (KMOD_CTRL | KMOD_ALT)))
            s->chord_used = false;
    }
    unsigned code = hg_sdl_scancode_to_pc(sc);
    /* Releases and auto-repeats of a key whose press went elsewhere (Ctrl+Alt+F, or before
     * the focus came) are not the guest's either. */
    if ((!pressed || ev->repeat) && (code >= KEY_SLOTS || !s->down[code]))
        return;
    /* Auto-repeat arrives as further key-downs, as a PC keyboard's typematic sends further
     * make codes. */
    send_key(s, code, pressed);
}

/* --- Mouse -------------------------------------------------------------------------- */

static unsigned button_bit(Uint8 b)
{
    switch (b) {
    case SDL_BUTTON_LEFT: return HG_BUTTON_LEFT;
    case SDL_BUTTON_RIGHT: return HG_BUTTON_RIGHT;
    case SDL_BUTTON_MIDDLE: return HG_BUTTON_MIDDLE;
    default: return 0;
    }
}

static void on_button(HgSdlDisplay *s, const SDL_MouseButtonEvent *ev)
{
    if (!s->grabbed) {
        /* With an absolute pointing device the guest follows the host pointer, no grab
         * needed; otherwise a click grabs (and is not passed on). */
        unsigned b = s->buttons;
        if (ev->type == SDL_MOUSEBUTTONDOWN)
            b |= button_bit(ev->button);
        else
            b &= ~button_bit(ev->button);
        if (hg_machine_send_pointer(s->machine, ev->x, ev->y, b)) {
            s->buttons = b;
            return;
        }
        if (ev->type == SDL_MOUSEBUTTONDOWN && ev->button == SDL_BUTTON_LEFT)
            set_grab(s, true);
        return;
    }
    if (ev->type == SDL_MOUSEBUTTONDOWN)
        s->buttons |= button_bit(ev->button);
    else
        s->buttons &= ~button_bit(ev->button);
    hg_machine_send_mouse(s->machine, 0, 0, 0, s->buttons);
}

static void on_motion(HgSdlDisplay *s, const SDL_MouseMotionEvent *ev)
{
    if (s->grabbed)
        hg_machine_send_mouse(s->machine, ev->xrel, ev->yrel, 0, s->buttons);
    else
        hg_machine_send_pointer(s->machine, ev->x, ev->y, s->buttons);
}

static void on_wheel(HgSdlDisplay *s, const SDL_MouseWheelEvent *ev)
{
    if (!s->grabbed)
        return;
    int dz = ev->y;
    if (ev->direction == SDL_MOUSEWHEEL_FLIPPED)
        dz = -dz;
    /* SDL: y > 0 scrolls up (away from the user); the engine: dz > 0 scrolls down. */
    if (dz)
        hg_machine_send_mouse(s->machine, 0, 0, -dz, s->buttons);
}

/* --- Picture ------------------------------------------------------------------------ */

/* Emulation thread: a frame changed. One refresh event in flight is enough: the main
 * thread takes all of our consumer's dirty rectangles when it handles it. */
static void display_changed(void *opaque, bool resized)
{
    HgSdlDisplay *s = opaque;
    if (!g_atomic_int_compare_and_exchange(&s->posted, 0, 1))
        return;
    SDL_Event ev;
    SDL_zero(ev);
    ev.type = s->refresh_event;
    if (SDL_PushEvent(&ev) != 1)
        g_atomic_int_set(&s->posted, 0);
}

/* Sizes the window for a new guest resolution: the guest's pixels one to one, made
 * smaller (keeping the aspect) when that does not fit on the screen. */
static void fit_window(HgSdlDisplay *s, int w, int h)
{
    if (s->fullscreen)
        return;
    SDL_Rect usable;
    int idx = SDL_GetWindowDisplayIndex(s->window);
    if (idx >= 0 && SDL_GetDisplayUsableBounds(idx, &usable) == 0 && usable.w > 0 && usable.h > 0 &&
        (w > usable.w || h > usable.h)) {
        double f = MIN((double)usable.w / w, (double)usable.h / h);
        w = MAX((int)(w * f), 1);
        h = MAX((int)(h * f), 1);
    }
    SDL_SetWindowSize(s->window, w, h);
}

static void refresh(HgSdlDisplay *s)
{
    g_atomic_int_set(&s->posted, 0);
    HgSurface surf;
    HgRect rects[32], bounds;
    /* Under the display's lock only copy the changed pixels into our shadow copy, so the
     * emulation thread is never held up by the texture upload. */
    hg_display_lock(s->display, &surf);
    int n = hg_display_take_dirty(s->consumer, rects, G_N_ELEMENTS(rects), &bounds);
    bool resized = !s->have_generation || surf.generation != s->generation ||
                   surf.width != s->tex_w || surf.height != s->tex_h;
    if (resized) {
        g_free(s->shadow);
        s->shadow = g_new(uint32_t, (size_t)surf.width * surf.height);
        s->tex_w = surf.width;
        s->tex_h = surf.height;
        s->generation = surf.generation;
        s->have_generation = true;
        rects[0] = (HgRect){0, 0, surf.width, surf.height};
        n = 1;
    }
    for (int i = 0; i < n; i++) {
        HgRect *r = &rects[i];
        /* Clipped by the display already; checked again since we index our own copy. */
        int x0 = CLAMP(r->x, 0, s->tex_w), y0 = CLAMP(r->y, 0, s->tex_h);
        int x1 = CLAMP(r->x + r->w, x0, s->tex_w), y1 = CLAMP(r->y + r->h, y0, s->tex_h);
        *r = (HgRect){x0, y0, x1 - x0, y1 - y0};
        for (int y = r->y; y < r->y + r->h; y++)
            memcpy(s->shadow + (size_t)y * s->tex_w + r->x,
                   (const uint8_t *)surf.pixels + (size_t)y * surf.stride + (size_t)r->x * 4,
                   (size_t)r->w * 4);
    }
    hg_display_unlock(s->display);

    if (resized) {
        if (s->texture)
            SDL_DestroyTexture(s->texture);
        /* XRGB8888 in native endianness is the display's own format: no conversion. */
        s->texture = SDL_CreateTexture(s->renderer, SDL_PIXELFORMAT_XRGB8888,
                                       SDL_TEXTUREACCESS_STREAMING, s->tex_w, s->tex_h);
        /* Scale to the window keeping the aspect (letterbox); mouse coordinates in events
         * come back in guest pixels. */
        SDL_RenderSetLogicalSize(s->renderer, s->tex_w, s->tex_h);
        /* The 1x1 surface of a display nothing has drawn on yet keeps the first size. */
        if (s->tex_w > 1 || s->tex_h > 1)
            fit_window(s, s->tex_w, s->tex_h);
    }
    if (!s->texture)
        return;
    for (int i = 0; i < n; i++) {
        const HgRect *r = &rects[i];
        if (r->w <= 0 || r->h <= 0)
            continue;
        SDL_Rect dst = {r->x, r->y, r->w, r->h};
        SDL_UpdateTexture(s->texture, &dst, s->shadow + (size_t)r->y * s->tex_w + r->x,
                          s->tex_w * 4);
    }
    if (n > 0)
        s->needs_present = true;
}

static void present(HgSdlDisplay *s)
{
    SDL_SetRenderDrawColor(s->renderer, 0, 0, 0, 255);
    SDL_RenderClear(s->renderer);
    if (s->texture)
        SDL_RenderCopy(s->renderer, s->texture, NULL, NULL);
    SDL_RenderPresent(s->renderer);
    s->needs_present = false;
}

/* --- Event pump (GLib timeout on the main thread) ------------------------------------ */

static void on_window_event(HgSdlDisplay *s, const SDL_WindowEvent *ev)
{
    switch (ev->event) {
    case SDL_WINDOWEVENT_CLOSE:
        if (s->on_close)
            s->on_close(s->opaque);
        break;
    case SDL_WINDOWEVENT_FOCUS_LOST:
        release_all_keys(s);
        s->chord_armed = s->chord_used = false;
        break;
    case SDL_WINDOWEVENT_EXPOSED:
    case SDL_WINDOWEVENT_SIZE_CHANGED: s->needs_present = true; break;
    default: break;
    }
}

static gboolean pump(gpointer data)
{
    HgSdlDisplay *s = data;
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        if (ev.type == s->refresh_event) {
            refresh(s);
            continue;
        }
        switch (ev.type) {
        case SDL_QUIT:
            if (s->on_close)
                s->on_close(s->opaque);
            break;
        case SDL_WINDOWEVENT: on_window_event(s, &ev.window); break;
        case SDL_KEYDOWN:
        case SDL_KEYUP: on_key(s, &ev.key); break;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP: on_button(s, &ev.button); break;
        case SDL_MOUSEMOTION: on_motion(s, &ev.motion); break;
        case SDL_MOUSEWHEEL: on_wheel(s, &ev.wheel); break;
        default: break;
        }
    }
    if (s->needs_present)
        present(s);
    return G_SOURCE_CONTINUE;
}

HgSdlDisplay *hg_sdl_display_new(HgMachine *m, HgSdlCloseFn on_close, void *opaque, GError **error)
{
    /* GLib handles SIGINT/SIGTERM for hangar-run; SDL must not install its own. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
    /* Smooth scaling reads better than nearest-neighbour at non-integer factors. */
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    if (!g_getenv("SDL_VIDEODRIVER") && !g_getenv("DISPLAY") && !g_getenv("WAYLAND_DISPLAY")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "no display server to open a window on (DISPLAY and WAYLAND_DISPLAY "
                    "are not set)");
        return NULL;
    }
    if (SDL_InitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "SDL cannot start its video: %s",
                    SDL_GetError());
        return NULL;
    }
    /* Without a display server SDL falls back to its offscreen driver, which would run
     * the machine with no window at all: refuse unless asked for (SDL_VIDEODRIVER). */
    const char *drv = SDL_GetCurrentVideoDriver();
    if (!g_getenv("SDL_VIDEODRIVER") && drv &&
        (strcmp(drv, "offscreen") == 0 || strcmp(drv, "dummy") == 0)) {
        SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
        SDL_Quit();
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "no display server to open a window on (DISPLAY and WAYLAND_DISPLAY "
                    "are not set)");
        return NULL;
    }
    HgSdlDisplay *s = g_new0(HgSdlDisplay, 1);
    s->machine = m;
    s->display = hg_machine_display(m);
    s->on_close = on_close;
    s->opaque = opaque;
    s->refresh_event = SDL_RegisterEvents(1);
    s->window = SDL_CreateWindow("Hangar", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 640,
                                 480, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (s->window)
        s->renderer = SDL_CreateRenderer(s->window, -1, 0); /* paced by our timer */
    if (s->window && !s->renderer) /* no accelerated renderer: the software one */
        s->renderer = SDL_CreateRenderer(s->window, -1, SDL_RENDERER_SOFTWARE);
    if (!s->window || !s->renderer || s->refresh_event == (Uint32)-1) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "SDL cannot open a window: %s",
                    SDL_GetError());
        hg_sdl_display_free(s);
        return NULL;
    }
    /* Keys are keys: no text input or input-method composition in between. */
    SDL_StopTextInput();
    /* The picture so far, then every change: a new consumer's region is the whole surface,
     * and its notifier only posts an event this thread handles after we return. */
    s->consumer = hg_display_add_consumer(s->display, display_changed, s);
    refresh(s);
    present(s);
    s->timer = g_timeout_add(FRAME_MS, pump, s);
    return s;
}

void hg_sdl_display_free(HgSdlDisplay *s)
{
    if (!s)
        return;
    /* After this no notifier runs: a refresh event already queued is dropped with SDL. */
    hg_display_remove_consumer(s->consumer);
    if (s->timer)
        g_source_remove(s->timer);
    if (s->texture)
        SDL_DestroyTexture(s->texture);
    g_free(s->shadow);
    if (s->renderer)
        SDL_DestroyRenderer(s->renderer);
    if (s->window)
        SDL_DestroyWindow(s->window);
    SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
    SDL_Quit();
    g_free(s);
}
