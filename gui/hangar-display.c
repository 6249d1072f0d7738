/* HangarDisplay: draws a machine's HgDisplay (engine/display.h) with cairo and sends the
 * keys typed into it.
 *
 * The widget keeps its own cairo image surface, a copy of the guest framebuffer: on each
 * "display-changed" event it locks the engine's display just long enough to copy the dirty
 * rectangles (both are XRGB8888 in native endianness, cairo's RGB24), so the emulation
 * thread never waits for drawing, and drawing never races the emulation thread. The widget
 * is a consumer of the display with its own dirty region (display.h), so other views of the
 * same machine (VNC, another widget) do not take its rectangles; a new run of the machine
 * has a new display, and the widget then moves its consumer there. The copy
 * is scaled to fit the widget keeping the aspect ratio (black bars around it), or by the
 * largest whole factor that fits, or shown 1:1 with the widget asking for the guest's size.
 *
 * Keys go by hardware keycode (gui/hangar-keycodes.c); the keys held are remembered so
 * that losing the focus releases them in the guest instead of leaving them stuck.
 *
 * The mouse: a guest with an absolute pointing device gets the position under the host
 * pointer. Otherwise a click grabs pointer and keyboard (GdkSeat) and motion is sent
 * relative: after each motion event the pointer is warped back to the display's centre
 * and the distance from the centre is the motion, so it never hits the screen's edge.
 * Left Ctrl + Left Alt together release the grab (the keys still reach the guest).
 */
#include "hangar-display.h"

#include <glib/gi18n.h>
#include <string.h>

#include "hangar-keycodes.h"

enum { KEY_SLOTS = 0x300 }; /* PC key codes: set-1 code | E0 | PAUSE */
enum { KEY_CTRL_L = 0x1d, KEY_ALT_L = 0x38 };

struct _HangarDisplay {
    GtkDrawingArea parent_instance;
    HangarMachine *machine;
    gulong changed_id;
    HgDisplayConsumer *consumer; /* on the display of the run last seen, or NULL */
    cairo_surface_t *surface;
    uint64_t generation;
    HangarScaleMode scale_mode;
    double scale, off_x, off_y; /* of the last drawing: widget = off + guest * scale */
    gboolean grabbed;
    int center_x, center_y; /* root coordinates the pointer is warped to while grabbed */
    unsigned buttons;       /* HG_BUTTON_* held */
    guint8 held[KEY_SLOTS];
};

G_DEFINE_TYPE(HangarDisplay, hangar_display, GTK_TYPE_DRAWING_AREA)

enum { PROP_0, PROP_GRABBED, N_PROPS };
static GParamSpec *props[N_PROPS];

/* Copies rects from the engine surface into ours (display lock held). */
static void copy_rects(HangarDisplay *self, const HgSurface *s, const HgRect *rects, int n)
{
    cairo_surface_flush(self->surface);
    guint8 *dst = cairo_image_surface_get_data(self->surface);
    int dst_stride = cairo_image_surface_get_stride(self->surface);
    for (int i = 0; i < n; i++) {
        const HgRect *r = &rects[i];
        for (int y = r->y; y < r->y + r->h; y++)
            memcpy(dst + (size_t)y * dst_stride + (size_t)r->x * 4,
                   (const guint8 *)s->pixels + (size_t)y * s->stride + (size_t)r->x * 4,
                   (size_t)r->w * 4);
    }
    cairo_surface_mark_dirty(self->surface);
}

static void update_size_request(HangarDisplay *self)
{
    if (self->scale_mode == HANGAR_SCALE_NONE && self->surface)
        gtk_widget_set_size_request(GTK_WIDGET(self), cairo_image_surface_get_width(self->surface),
                                    cairo_image_surface_get_height(self->surface));
    else
        gtk_widget_set_size_request(GTK_WIDGET(self), 320, 200);
}

static void update_from_machine(HangarDisplay *self)
{
    HgDisplay *d = self->machine ? hangar_machine_get_display(self->machine) : NULL;
    /* A consumer keeps its display's memory alive (display.h), so the old pointer cannot
     * come back as the new run's display and removing it is safe after a power off. */
    if (self->consumer && hg_display_consumer_display(self->consumer) != d)
        hg_display_remove_consumer(g_steal_pointer(&self->consumer));
    if (!d)
        return;
    if (!self->consumer)
        self->consumer = hg_display_add_consumer(d, NULL, NULL);
    HgSurface s;
    HgRect rects[32], bounds;
    gboolean resized = FALSE;
    hg_display_lock(d, &s);
    int n = hg_display_take_dirty(self->consumer, rects, G_N_ELEMENTS(rects), &bounds);
    if (!self->surface || s.generation != self->generation ||
        cairo_image_surface_get_width(self->surface) != s.width ||
        cairo_image_surface_get_height(self->surface) != s.height) {
        g_clear_pointer(&self->surface, cairo_surface_destroy);
        self->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, s.width, s.height);
        self->generation = s.generation;
        rects[0] = (HgRect){0, 0, s.width, s.height};
        n = 1;
        resized = TRUE;
    }
    if (n > 0 && s.pixels)
        copy_rects(self, &s, rects, n);
    hg_display_unlock(d);
    if (resized)
        update_size_request(self);
    if (n > 0)
        gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void on_display_changed(HangarMachine *machine, gboolean resized, gpointer data)
{
    update_from_machine(HANGAR_DISPLAY(data));
}

static gboolean hangar_display_draw(GtkWidget *widget, cairo_t *cr)
{
    HangarDisplay *self = HANGAR_DISPLAY(widget);
    int w = gtk_widget_get_allocated_width(widget);
    int h = gtk_widget_get_allocated_height(widget);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_paint(cr);
    if (!self->surface)
        return TRUE;
    int sw = cairo_image_surface_get_width(self->surface);
    int sh = cairo_image_surface_get_height(self->surface);
    double scale = MIN((double)w / sw, (double)h / sh);
    if (self->scale_mode == HANGAR_SCALE_INTEGER)
        scale = MAX(1, (int)scale);
    else if (self->scale_mode == HANGAR_SCALE_NONE)
        scale = 1;
    self->scale = scale;
    if (scale <= 0)
        return TRUE;
    self->off_x = (w - sw * scale) / 2;
    self->off_y = (h - sh * scale) / 2;
    cairo_translate(cr, self->off_x, self->off_y);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, self->surface, 0, 0);
    /* Whole multiples stay crisp; other scales are smoothed. */
    cairo_pattern_set_filter(cairo_get_source(cr),
                             scale == (int)scale ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
    cairo_rectangle(cr, 0, 0, sw, sh);
    cairo_fill(cr);
    return TRUE;
}

static void release_all_keys(HangarDisplay *self)
{
    for (int code = 0; code < KEY_SLOTS; code++)
        if (self->held[code]) {
            self->held[code] = 0;
            if (self->machine && code != HG_KEYCODE_PAUSE)
                hangar_machine_send_key(self->machine, (uint16_t)code, FALSE);
        }
}

/* --- Grab --- */

static void warp_to_center(HangarDisplay *self)
{
    GtkWidget *widget = GTK_WIDGET(self);
    GdkWindow *window = gtk_widget_get_window(widget);
    GdkSeat *seat = gdk_display_get_default_seat(gtk_widget_get_display(widget));
    GdkDevice *pointer = seat ? gdk_seat_get_pointer(seat) : NULL;
    if (!window || !pointer)
        return;
    gdk_window_get_root_coords(window, gtk_widget_get_allocated_width(widget) / 2,
                               gtk_widget_get_allocated_height(widget) / 2, &self->center_x,
                               &self->center_y);
    gdk_device_warp(pointer, gtk_widget_get_screen(widget), self->center_x, self->center_y);
}

static void set_grabbed(HangarDisplay *self, gboolean grabbed)
{
    if (self->grabbed == grabbed)
        return;
    self->grabbed = grabbed;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_GRABBED]);
}

static void grab(HangarDisplay *self)
{
    GtkWidget *widget = GTK_WIDGET(self);
    GdkWindow *window = gtk_widget_get_window(widget);
    GdkDisplay *display = gtk_widget_get_display(widget);
    GdkSeat *seat = gdk_display_get_default_seat(display);
    if (self->grabbed || !window || !seat)
        return;
    g_autoptr(GdkCursor) blank = gdk_cursor_new_for_display(display, GDK_BLANK_CURSOR);
    GdkGrabStatus status =
        gdk_seat_grab(seat, window, GDK_SEAT_CAPABILITY_ALL, FALSE, blank, NULL, NULL, NULL);
    if (status != GDK_GRAB_SUCCESS) {
        g_debug("display: the grab failed (GdkGrabStatus %d)", status);
        return;
    }
    set_grabbed(self, TRUE);
    warp_to_center(self);
}

void hangar_display_ungrab(HangarDisplay *self)
{
    if (!self->grabbed)
        return;
    GdkSeat *seat = gdk_display_get_default_seat(gtk_widget_get_display(GTK_WIDGET(self)));
    if (seat)
        gdk_seat_ungrab(seat);
    if (self->buttons && self->machine)
        hangar_machine_send_mouse(self->machine, 0, 0, 0, 0);
    self->buttons = 0;
    set_grabbed(self, FALSE);
}

gboolean hangar_display_get_grabbed(HangarDisplay *self)
{
    return self->grabbed;
}

/* --- Keyboard --- */

static gboolean hangar_display_key(GtkWidget *widget, GdkEventKey *event)
{
    HangarDisplay *self = HANGAR_DISPLAY(widget);
    uint16_t code = hangar_keycode_from_hardware(event->hardware_keycode);
    if (!code || code >= KEY_SLOTS || !self->machine)
        return GDK_EVENT_PROPAGATE;
    gboolean pressed = event->type == GDK_KEY_PRESS;
    self->held[code] = pressed;
    hangar_machine_send_key(self->machine, code, pressed);
    if (pressed && self->grabbed && self->held[KEY_CTRL_L] && self->held[KEY_ALT_L]) {
        hangar_display_ungrab(self);
        release_all_keys(self);
    }
    return GDK_EVENT_STOP;
}

static gboolean hangar_display_focus_out(GtkWidget *widget, GdkEventFocus *event)
{
    HangarDisplay *self = HANGAR_DISPLAY(widget);
    release_all_keys(self);
    hangar_display_ungrab(self);
    return GDK_EVENT_PROPAGATE;
}

static gboolean hangar_display_grab_broken(GtkWidget *widget, GdkEventGrabBroken *event)
{
    HangarDisplay *self = HANGAR_DISPLAY(widget);
    self->buttons = 0;
    set_grabbed(self, FALSE);
    return GDK_EVENT_PROPAGATE;
}

/* --- Mouse --- */

static unsigned button_bit(guint button)
{
    switch (button) {
    case GDK_BUTTON_PRIMARY: return HG_BUTTON_LEFT;
    case GDK_BUTTON_SECONDARY: return HG_BUTTON_RIGHT;
    case GDK_BUTTON_MIDDLE: return HG_BUTTON_MIDDLE;
    default: return 0;
    }
}

/* Sends the absolute position of widget point (x, y); FALSE when the guest cannot take
 * one (then the grab and relative motion are used). */
static gboolean send_absolute(HangarDisplay *self, double x, double y)
{
    if (!self->machine || !self->surface || self->scale <= 0)
        return FALSE;
    int sw = cairo_image_surface_get_width(self->surface);
    int sh = cairo_image_surface_get_height(self->surface);
    int gx = CLAMP((int)((x - self->off_x) / self->scale), 0, sw - 1);
    int gy = CLAMP((int)((y - self->off_y) / self->scale), 0, sh - 1);
    return hangar_machine_send_pointer(self->machine, gx, gy, self->buttons);
}

static gboolean hangar_display_button(GtkWidget *widget, GdkEventButton *event)
{
    HangarDisplay *self = HANGAR_DISPLAY(widget);
    if (event->type != GDK_BUTTON_PRESS && event->type != GDK_BUTTON_RELEASE)
        return GDK_EVENT_STOP; /* double and triple clicks: the guest counts itself */
    gtk_widget_grab_focus(widget);
    if (!self->machine)
        return GDK_EVENT_STOP;
    gboolean pressed = event->type == GDK_BUTTON_PRESS;
    unsigned bit = button_bit(event->button);
    if (!self->grabbed) {
        /* The first click only grabs: it is not passed to the guest. */
        if (bit && send_absolute(self, event->x, event->y)) {
            self->buttons = pressed ? self->buttons | bit : self->buttons & ~bit;
            send_absolute(self, event->x, event->y);
        } else if (pressed) {
            grab(self);
        }
        return GDK_EVENT_STOP;
    }
    self->buttons = pressed ? self->buttons | bit : self->buttons & ~bit;
    hangar_machine_send_mouse(self->machine, 0, 0, 0, self->buttons);
    return GDK_EVENT_STOP;
}

static gboolean hangar_display_motion(GtkWidget *widget, GdkEventMotion *event)
{
    HangarDisplay *self = HANGAR_DISPLAY(widget);
    if (!self->machine)
        return GDK_EVENT_PROPAGATE;
    if (!self->grabbed) {
        send_absolute(self, event->x, event->y);
        return GDK_EVENT_STOP;
    }
    int dx = (int)event->x_root - self->center_x;
    int dy = (int)event->y_root - self->center_y;
    if (dx || dy) {
        hangar_machine_send_mouse(self->machine, dx, dy, 0, self->buttons);
        warp_to_center(self);
    }
    return GDK_EVENT_STOP;
}

/* A pointer that jumps into the display (a warp, a window raised under it, a synthetic
 * move) brings only a crossing event: with a tablet its position is sent from there, or
 * the guest would wait for the next motion. */
static gboolean hangar_display_enter(GtkWidget *widget, GdkEventCrossing *event)
{
    HangarDisplay *self = HANGAR_DISPLAY(widget);
    if (self->machine && !self->grabbed)
        send_absolute(self, event->x, event->y);
    return GDK_EVENT_PROPAGATE;
}

static gboolean hangar_display_scroll(GtkWidget *widget, GdkEventScroll *event)
{
    HangarDisplay *self = HANGAR_DISPLAY(widget);
    if (!self->machine || !self->grabbed)
        return GDK_EVENT_PROPAGATE;
    int dz = event->direction == GDK_SCROLL_UP ? -1 : event->direction == GDK_SCROLL_DOWN ? 1 : 0;
    if (dz)
        hangar_machine_send_mouse(self->machine, 0, 0, dz, self->buttons);
    return GDK_EVENT_STOP;
}

GtkWidget *hangar_display_new(void)
{
    return g_object_new(HANGAR_TYPE_DISPLAY, NULL);
}

void hangar_display_set_machine(HangarDisplay *self, HangarMachine *machine)
{
    if (self->machine == machine)
        return;
    if (self->machine) {
        hangar_display_ungrab(self);
        release_all_keys(self);
        g_clear_signal_handler(&self->changed_id, self->machine);
        g_clear_object(&self->machine);
        hg_display_remove_consumer(g_steal_pointer(&self->consumer));
    }
    if (machine) {
        self->machine = g_object_ref(machine);
        self->changed_id =
            g_signal_connect(machine, "display-changed", G_CALLBACK(on_display_changed), self);
        update_from_machine(self);
    }
}

void hangar_display_set_scale_mode(HangarDisplay *self, HangarScaleMode mode)
{
    if (self->scale_mode == mode)
        return;
    self->scale_mode = mode;
    update_size_request(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

HangarScaleMode hangar_display_get_scale_mode(HangarDisplay *self)
{
    return self->scale_mode;
}

double hangar_display_get_scale(HangarDisplay *self)
{
    return self->scale;
}

cairo_surface_t *hangar_display_get_surface(HangarDisplay *self)
{
    return self->surface;
}

static void hangar_display_dispose(GObject *object)
{
    HangarDisplay *self = HANGAR_DISPLAY(object);
    hangar_display_set_machine(self, NULL);
    g_clear_pointer(&self->surface, cairo_surface_destroy);
    G_OBJECT_CLASS(hangar_display_parent_class)->dispose(object);
}

static void hangar_display_get_property(GObject *object, guint prop_id, GValue *value,
                                        GParamSpec *pspec)
{
    switch (prop_id) {
    case PROP_GRABBED: g_value_set_boolean(value, HANGAR_DISPLAY(object)->grabbed); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void hangar_display_class_init(HangarDisplayClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->dispose = hangar_display_dispose;
    widget_class->draw = hangar_display_draw;
    widget_class->key_press_event = hangar_display_key;
    widget_class->key_release_event = hangar_display_key;
    widget_class->focus_out_event = hangar_display_focus_out;
    widget_class->button_press_event = hangar_display_button;
    widget_class->button_release_event = hangar_display_button;
    widget_class->motion_notify_event = hangar_display_motion;
    widget_class->enter_notify_event = hangar_display_enter;
    widget_class->scroll_event = hangar_display_scroll;
    widget_class->grab_broken_event = hangar_display_grab_broken;
    object_class->get_property = hangar_display_get_property;
    props[PROP_GRABBED] = g_param_spec_boolean("grabbed", "Grabbed", "Pointer and keyboard grabbed",
                                               FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);
    gtk_widget_class_set_css_name(widget_class, "hangar-display");
}

static void hangar_display_init(HangarDisplay *self)
{
    GtkWidget *widget = GTK_WIDGET(self);
    gtk_widget_set_can_focus(widget, TRUE);
    gtk_widget_add_events(widget, GDK_KEY_PRESS_MASK | GDK_KEY_RELEASE_MASK |
                                      GDK_BUTTON_PRESS_MASK | GDK_BUTTON_RELEASE_MASK |
                                      GDK_POINTER_MOTION_MASK | GDK_ENTER_NOTIFY_MASK |
                                      GDK_SCROLL_MASK | GDK_FOCUS_CHANGE_MASK);
    gtk_widget_set_size_request(widget, 320, 200);
    gtk_widget_set_hexpand(widget, TRUE);
    gtk_widget_set_vexpand(widget, TRUE);
    atk_object_set_name(gtk_widget_get_accessible(widget), _("Machine display"));
}
