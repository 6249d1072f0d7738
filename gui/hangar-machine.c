/* HangarMachine: a profile plus, while it runs, its in-process emulator.
 *
 * The engine calls its hooks and the display notifier on the emulation thread
 * (engine/hangar.h, engine/display.h); GTK may only be used on the main thread, so each
 * event is marshalled with g_main_context_invoke. A run generation number tags the events
 * so that ones posted by a machine already powered off are dropped. While the emulation
 * thread runs the object holds a reference to itself, so the thread never reaches a
 * finalized object.
 */
#include "hangar-machine.h"

#include <glib/gi18n.h>

#include "hangar-presets.h"
#include "hangar-thumbnail.h"
#include "keymap.h"

struct _HangarMachine {
    GObject parent_instance;
    char *id;
    char *dir;
    HgConfig cfg;
    HangarMachineState state;
    HgMachine *hg;
    /* The display's notifier only: each view takes its rectangles from its own consumer. */
    HgDisplayConsumer *display_watch;
    guint run_gen;        /* changed on every start and power off */
    gint display_pending; /* atomic: a display event is queued */
    gint display_resized; /* atomic: a resize happened since the last event */
    guint thumb_timer;    /* refreshes thumbnail.png while running */
};

G_DEFINE_TYPE(HangarMachine, hangar_machine, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_GUEST_TYPE, PROP_STATE, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_DISPLAY_CHANGED, SIGNAL_THUMBNAIL_SAVED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void set_state(HangarMachine *self, HangarMachineState state)
{
    if (self->state == state)
        return;
    self->state = state;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATE]);
}

/* --- Events from the emulation thread --- */

typedef struct {
    HangarMachine *self;
    guint gen;
    HgMachineState state;
} StateEvent;

static void state_event_free(gpointer data)
{
    StateEvent *ev = data;
    g_object_unref(ev->self);
    g_free(ev);
}

static gboolean state_event_main(gpointer data)
{
    StateEvent *ev = data;
    HangarMachine *self = ev->self;
    if (ev->gen != self->run_gen || !self->hg)
        return G_SOURCE_REMOVE;
    switch (ev->state) {
    case HG_STATE_RUNNING: set_state(self, HANGAR_MACHINE_RUNNING); break;
    case HG_STATE_PAUSED:
        hangar_machine_save_thumbnail(self);
        set_state(self, HANGAR_MACHINE_PAUSED);
        break;
    case HG_STATE_FINISHED:
        /* The guest powered itself off: collect the thread and the emulator. */
        hangar_machine_power_off(self);
        break;
    }
    return G_SOURCE_REMOVE;
}

static void on_state_changed(void *opaque, HgMachineState state)
{
    HangarMachine *self = opaque;
    StateEvent *ev = g_new0(StateEvent, 1);
    ev->self = g_object_ref(self);
    ev->gen = g_atomic_int_get(&self->run_gen);
    ev->state = state;
    g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, state_event_main, ev, state_event_free);
}

static gboolean display_event_main(gpointer data)
{
    HangarMachine *self = data;
    g_atomic_int_set(&self->display_pending, 0);
    gboolean resized = g_atomic_int_exchange(&self->display_resized, 0) != 0;
    if (self->hg)
        g_signal_emit(self, signals[SIGNAL_DISPLAY_CHANGED], 0, resized);
    return G_SOURCE_REMOVE;
}

static void on_display_notify(void *opaque, bool resized)
{
    HangarMachine *self = opaque;
    if (resized)
        g_atomic_int_set(&self->display_resized, 1);
    /* One queued event at a time: the GTK side takes every dirty rectangle at once, so
     * frames drawn while it waits coalesce instead of flooding the main loop. */
    if (g_atomic_int_compare_and_exchange(&self->display_pending, 0, 1))
        g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT_IDLE, display_event_main,
                                   g_object_ref(self), g_object_unref);
}

/* --- Public API --- */

HangarMachine *hangar_machine_new_from_dir(const char *id, const char *dir, GError **error)
{
    HgConfig cfg;
    hg_config_init(&cfg);
    if (!hg_config_load_profile(&cfg, dir, error)) {
        hg_config_clear(&cfg);
        return NULL;
    }
    HangarMachine *self = g_object_new(HANGAR_TYPE_MACHINE, NULL);
    self->id = g_strdup(id);
    self->dir = g_strdup(dir);
    hg_config_clear(&self->cfg);
    self->cfg = cfg;
    return self;
}

gboolean hangar_machine_reload(HangarMachine *self, GError **error)
{
    /* A running machine keeps the configuration it was started with. */
    if (self->hg)
        return TRUE;
    HgConfig cfg;
    hg_config_init(&cfg);
    if (!hg_config_load_profile(&cfg, self->dir, error)) {
        hg_config_clear(&cfg);
        return FALSE;
    }
    hg_config_clear(&self->cfg);
    self->cfg = cfg;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_NAME]);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_GUEST_TYPE]);
    return TRUE;
}

const char *hangar_machine_get_id(HangarMachine *self)
{
    return self->id;
}

const char *hangar_machine_get_dir(HangarMachine *self)
{
    return self->dir;
}

const char *hangar_machine_get_name(HangarMachine *self)
{
    return self->cfg.name && *self->cfg.name ? self->cfg.name : self->id;
}

const char *hangar_machine_get_guest_type(HangarMachine *self)
{
    return self->cfg.guest_type ? self->cfg.guest_type : "other";
}

const char *hangar_machine_get_guest_type_label(HangarMachine *self)
{
    /* The assistant's presets (gui/hangar-presets.c) name the guest types. */
    return _(hangar_preset_find(hangar_machine_get_guest_type(self))->label);
}

const HgConfig *hangar_machine_get_config(HangarMachine *self)
{
    return &self->cfg;
}

HangarMachineState hangar_machine_get_state(HangarMachine *self)
{
    return self->state;
}

const char *hangar_machine_state_label(HangarMachineState state)
{
    switch (state) {
    case HANGAR_MACHINE_RUNNING: return _("Running");
    case HANGAR_MACHINE_PAUSED: return _("Paused");
    case HANGAR_MACHINE_STOPPED:
    default: return _("Powered off");
    }
}

static gboolean thumbnail_tick(gpointer data)
{
    hangar_machine_save_thumbnail(data);
    return G_SOURCE_CONTINUE;
}

void hangar_machine_save_thumbnail(HangarMachine *self)
{
    if (!self->hg)
        return;
    g_autofree char *path = hangar_thumbnail_path(self->dir);
    g_autoptr(GError) error = NULL;
    /* A missing picture is no reason to bother anyone: the list keeps the older one. */
    if (hangar_thumbnail_save(hg_machine_display(self->hg), path, &error))
        g_signal_emit(self, signals[SIGNAL_THUMBNAIL_SAVED], 0);
    else
        g_debug("thumbnail of %s: %s", self->id, error->message);
}

gboolean hangar_machine_start(HangarMachine *self, GError **error)
{
    if (self->hg)
        return TRUE;
    g_atomic_int_inc(&self->run_gen);
    HgMachineHooks hooks = {
        .opaque = self,
        .state_changed = on_state_changed,
    };
    self->hg = hg_machine_new(&self->cfg, &hooks, error);
    if (!self->hg)
        return FALSE;
    self->display_watch =
        hg_display_add_consumer(hg_machine_display(self->hg), on_display_notify, self);
    g_object_ref(self); /* held by the emulation thread, dropped in power_off */
    if (!hg_machine_start(self->hg, error)) {
        hg_display_remove_consumer(g_steal_pointer(&self->display_watch));
        hg_machine_free(g_steal_pointer(&self->hg));
        g_object_unref(self);
        return FALSE;
    }
    set_state(self, HANGAR_MACHINE_RUNNING);
    self->thumb_timer = g_timeout_add_seconds(20, thumbnail_tick, self);
    return TRUE;
}

void hangar_machine_pause(HangarMachine *self)
{
    if (self->hg)
        hg_machine_pause(self->hg);
}

void hangar_machine_resume(HangarMachine *self)
{
    if (self->hg)
        hg_machine_resume(self->hg);
}

void hangar_machine_reset(HangarMachine *self)
{
    if (self->hg)
        hg_machine_request_reset(self->hg);
}

void hangar_machine_power_off(HangarMachine *self)
{
    if (!self->hg)
        return;
    g_atomic_int_inc(&self->run_gen);
    hg_machine_stop(self->hg);
    g_clear_handle_id(&self->thumb_timer, g_source_remove);
    hangar_machine_save_thumbnail(self);
    /* The thread has ended: nothing calls the notifier any more. */
    hg_display_remove_consumer(g_steal_pointer(&self->display_watch));
    hg_machine_free(g_steal_pointer(&self->hg));
    set_state(self, HANGAR_MACHINE_STOPPED);
    g_object_unref(self);
}

void hangar_machine_send_key(HangarMachine *self, uint16_t code, gboolean pressed)
{
    if (self->hg && code)
        hg_machine_send_key(self->hg, code, pressed);
}

void hangar_machine_send_mouse(HangarMachine *self, int dx, int dy, int dz, unsigned buttons)
{
    if (self->hg)
        hg_machine_send_mouse(self->hg, dx, dy, dz, buttons);
}

gboolean hangar_machine_send_pointer(HangarMachine *self, int x, int y, unsigned buttons)
{
    return self->hg && hg_machine_send_pointer(self->hg, x, y, buttons);
}

gboolean hangar_machine_send_chord(HangarMachine *self, const char *chord)
{
    g_auto(GStrv) names = g_strsplit(chord, "+", 8);
    uint16_t codes[8];
    int n = 0;
    for (; names[n]; n++)
        if (!(codes[n] = hg_keymap_lookup(names[n])))
            return FALSE;
    if (!self->hg || n == 0)
        return FALSE;
    for (int i = 0; i < n; i++)
        hg_machine_send_key(self->hg, codes[i], true);
    for (int i = n - 1; i >= 0; i--)
        hg_machine_send_key(self->hg, codes[i], false);
    return TRUE;
}

HgDisplay *hangar_machine_get_display(HangarMachine *self)
{
    return self->hg ? hg_machine_display(self->hg) : NULL;
}

HgMachine *hangar_machine_get_hg(HangarMachine *self)
{
    return self->hg;
}

/* --- GObject --- */

static void hangar_machine_get_property(GObject *object, guint prop_id, GValue *value,
                                        GParamSpec *pspec)
{
    HangarMachine *self = HANGAR_MACHINE(object);
    switch (prop_id) {
    case PROP_NAME: g_value_set_string(value, hangar_machine_get_name(self)); break;
    case PROP_GUEST_TYPE: g_value_set_string(value, hangar_machine_get_guest_type(self)); break;
    case PROP_STATE: g_value_set_int(value, self->state); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void hangar_machine_finalize(GObject *object)
{
    HangarMachine *self = HANGAR_MACHINE(object);
    /* A running machine holds a reference to this object, so none is left here. */
    g_warn_if_fail(self->hg == NULL);
    hg_config_clear(&self->cfg);
    g_free(self->id);
    g_free(self->dir);
    G_OBJECT_CLASS(hangar_machine_parent_class)->finalize(object);
}

static void hangar_machine_class_init(HangarMachineClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->get_property = hangar_machine_get_property;
    object_class->finalize = hangar_machine_finalize;

    props[PROP_NAME] = g_param_spec_string("name", "Name", "Display name", NULL,
                                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_GUEST_TYPE] = g_param_spec_string("guest-type", "Guest type", "Preset id", NULL,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_STATE] = g_param_spec_int(
        "state", "State", "HangarMachineState", HANGAR_MACHINE_STOPPED, HANGAR_MACHINE_PAUSED,
        HANGAR_MACHINE_STOPPED, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);

    signals[SIGNAL_DISPLAY_CHANGED] =
        g_signal_new("display-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
    signals[SIGNAL_THUMBNAIL_SAVED] =
        g_signal_new("thumbnail-saved", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 0);
}

static void hangar_machine_init(HangarMachine *self)
{
    hg_config_init(&self->cfg);
    self->state = HANGAR_MACHINE_STOPPED;
}
