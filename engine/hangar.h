/* Hangar engine public API: build a machine from a configuration, run it, talk to it.
 *
 * A machine is one HgMachine object with no global state, so a process can run many.
 * This first version runs on the caller's thread; the emulation thread and the command
 * queue described in docs/architecture.md are built on top of hg_machine_run().
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

#define HG_ERROR (hg_error_quark())
GQuark hg_error_quark(void);

typedef enum {
    HG_ERROR_CONFIG,  /* the configuration is inconsistent or incomplete */
    HG_ERROR_FILE,    /* a file named in the configuration cannot be used */
    HG_ERROR_FORMAT,  /* a file's contents are not what they claim to be */
} HgErrorCode;

typedef enum {
    HG_CLOCK_HOST,   /* guest time follows real time */
    HG_CLOCK_ICOUNT, /* each instruction advances the clock by a fixed amount */
} HgClockMode;

typedef enum {
    HG_VGA_MODEL_STD,    /* standard VGA with Bochs VBE (ISA, SeaVGABIOS isavga via fw_cfg) */
    HG_VGA_MODEL_CIRRUS, /* Cirrus CLGD-5446 PCI with vgabios-cirrus.bin as its option ROM */
} HgVgaModel;

/* Sound hardware: a set of these bits (hangar-run --soundhw sb16,adlib,es1370,pcspk). */
enum {
    HG_SOUND_SB16 = 1 << 0,   /* Sound Blaster 16 on ISA 0x220, IRQ 5, DMA 1 and 5 */
    HG_SOUND_ADLIB = 1 << 1,  /* AdLib / OPL2 on 0x388 */
    HG_SOUND_ES1370 = 1 << 2, /* Ensoniq ES1370 on PCI */
    HG_SOUND_PCSPK = 1 << 3,  /* PC speaker from PIT channel 2 */
};

typedef enum {
    HG_NIC_NONE,
    HG_NIC_NE2K_ISA, /* NE2000 on ISA (default I/O 0x300, IRQ 7) */
    HG_NIC_NE2K_PCI, /* RTL8029 (10EC:8029) */
    HG_NIC_RTL8139,  /* RTL8139 (10EC:8139) */
} HgNicModel;

/* What a machine is made of. Profiles (machine.ini) and hangar-run's options both fill
 * one of these; strings are owned (g_free'd by hg_config_clear). */
typedef struct HgConfig {
    char *name;       /* profile display name, or NULL */
    char *guest_type; /* preset id (linux, linux-old, dos, win9x, winxp, other), or NULL */
    uint32_t memory_mib;
    char *bios;       /* firmware image mapped below 4 GiB and 1 MiB */
    char *kernel;     /* kernel to start directly (multiboot, or Linux through firmware) */
    char *initrd;     /* initial RAM disk (multiboot module) */
    char *append;     /* kernel command line */
    char *hda, *hdb;  /* IDE primary master and slave disk images */
    char *cdrom;      /* ATAPI CD-ROM image (secondary master), or NULL for an empty drive */
    char *fda;        /* floppy image for drive A */
    char boot[4];     /* boot order: up to three of 'c' (disk), 'd' (CD), 'a' (floppy) */
    bool debug_exit;  /* ports 0xF4 (exit) and 0xE0-0xE3 (echo) */
    bool no_reboot;   /* a triple fault or reset request ends the machine */
    HgClockMode clock;
    HgVgaModel vga;   /* display adapter */
    unsigned soundhw; /* HG_SOUND_* bits */
    char *audio;      /* host audio output: "pulse", "sdl", "none", or NULL for the default */
    HgNicModel nic;
    char *nic_options; /* card options after the model ("io=0x300,irq=7"...), or NULL */
    char *net;         /* host side: "user[,hostfwd=...][,restrict=on]", "tap,ifname=...",
                        * or NULL for user networking */
    uint8_t mac[6];    /* all zero: none chosen yet (52:54:00:12:34:56 is used) */
    char *net_dump;    /* a pcap file receiving every frame both ways, or NULL; not kept in
                        * profiles (hangar-run --net-dump) */
    char **usb;        /* USB devices at start ("tablet", "keyboard", "storage:FILE"), or NULL */
    char *profile_dir; /* the profile folder this was loaded from (saved states, screenshots) */
    bool snapshot;     /* hard disks run on throw-away qcow2 overlays (hangar-run --snapshot) */
    char *hda_format, *hdb_format; /* "raw" or "qcow2" as the user said; NULL: detected */
} HgConfig;

void hg_config_init(HgConfig *cfg);
void hg_config_clear(HgConfig *cfg);
void hg_config_copy(HgConfig *dst, const HgConfig *src);
/* Checks a boot order ("c", "dc", "adc"...): letters c, d, a, each at most once. */
bool hg_config_set_boot(HgConfig *cfg, const char *order, GError **error);

/* The names people type: "sb16,adlib" (or "none"); "ne2k_isa[,OPTIONS]"; a MAC address
 * "52:54:00:12:34:56"; "tablet,keyboard,storage:FILE". Each checks the names it knows
 * and leaves the finer checks of options to the device that reads them. */
bool hg_config_set_soundhw(HgConfig *cfg, const char *list, GError **error);
char *hg_config_soundhw_string(const HgConfig *cfg);
bool hg_config_set_nic(HgConfig *cfg, const char *spec, GError **error);
const char *hg_config_nic_name(HgNicModel nic);
bool hg_config_set_net(HgConfig *cfg, const char *spec, GError **error);
bool hg_config_set_mac(HgConfig *cfg, const char *text, GError **error);
bool hg_config_set_usb(HgConfig *cfg, const char *list, GError **error);

/* The hangar-run invocation that builds the same machine (engine/config-cmdline.c):
 * argv[0] is "hangar-run"; NULL-terminated, g_strfreev. The same as one line for a POSIX
 * shell, words quoted where needed. The profile's name and guest type have no option. */
char **hg_config_to_argv(const HgConfig *cfg);
char *hg_config_to_command_line(const HgConfig *cfg);

/* Machine profiles (docs/architecture.md, "Files on disk"): a folder holding machine.ini
 * and the machine's images. Relative image paths in machine.ini are relative to the
 * folder and come back absolute. The folder of a profile named by id is
 * $XDG_DATA_HOME/hangar/machines/ID. */
char *hg_profile_dir_for_id(const char *id);
/* Resolves what a user typed: a folder with machine.ini, a machine.ini path, or an id. */
char *hg_profile_resolve(const char *name_or_path, GError **error);
bool hg_config_load_profile(HgConfig *cfg, const char *dir, GError **error);
/* Writes dir/machine.ini crash-safely (temporary file, fsync, rename). Keys and groups of
 * an existing machine.ini that this version does not know (a newer Hangar's) are kept;
 * [Machine] Version= says which profile format wrote it. A profile without Version= (the
 * first format) or lacking keys loads with hg_config_init's defaults for them. */
#define HG_PROFILE_VERSION 1
bool hg_config_save_profile(const HgConfig *cfg, const char *dir, GError **error);

/* Creates a disk image of size bytes (format "raw" or "qcow2"; NULL means raw), with an
 * optional backing file (qcow2 overlays). An existing file is replaced, as qemu-img does. */
bool hg_image_create(const char *path, const char *format, uint64_t size, const char *backing,
                     const char *backing_format, GError **error);

typedef struct HgMachine HgMachine;

typedef enum {
    HG_STATE_RUNNING,
    HG_STATE_PAUSED,
    HG_STATE_FINISHED, /* powered off, or ended by the debug-exit port */
} HgMachineState;

/* Host-side outputs. All callbacks run on the thread that runs the machine (the emulation
 * thread once hg_machine_start was called): a frontend marshals them to its own thread. */
typedef struct HgMachineHooks {
    void *opaque;
    void (*serial_out)(void *opaque, int port, uint8_t byte); /* COM1 = port 0 */
    void (*debugcon_out)(void *opaque, uint8_t byte);         /* port 0xE9, or NULL */
    void (*state_changed)(void *opaque, HgMachineState state);
    /* Messages about the machine for a person to read (a log view): what the guest or a
     * device did that matters (resets, power off, media changes, refused input). level is
     * a GLogLevelFlags value (G_LOG_LEVEL_WARNING, _MESSAGE, _INFO). Without this hook they
     * go to GLib's debug log (G_MESSAGES_DEBUG=hangar-machine). */
    void (*message)(void *opaque, int level, const char *text);
} HgMachineHooks;

typedef enum {
    HG_RUN_BUDGET,    /* the instruction budget ran out; call again */
    HG_RUN_EXITED,    /* the guest ended the machine (debug exit, power off) */
    HG_RUN_STUCK,     /* the CPU halted with nothing that can wake it */
} HgRunResult;

HgMachine *hg_machine_new(const HgConfig *cfg, const HgMachineHooks *hooks, GError **error);
void hg_machine_free(HgMachine *m);
void hg_machine_reset(HgMachine *m);
/* Runs up to max_insns guest instructions (or until the machine ends). */
HgRunResult hg_machine_run(HgMachine *m, int64_t max_insns);
/* Process exit status the guest asked for (debug-exit value, 0 for power off). */
int hg_machine_exit_status(const HgMachine *m);
/* The emulation thread (docs/architecture.md, "The engine as a library"): start runs the
 * machine on a thread of its own until it finishes or hg_machine_stop; the other calls
 * may come from any thread and are carried out between execution slices. */
bool hg_machine_start(HgMachine *m, GError **error);
/* Ends the emulation thread (the machine stays as it was: it can be inspected or freed). */
void hg_machine_stop(HgMachine *m);
/* Waits for the emulation thread to end by itself (power off, debug exit). */
void hg_machine_join(HgMachine *m);
void hg_machine_pause(HgMachine *m);
void hg_machine_resume(HgMachine *m);
void hg_machine_request_reset(HgMachine *m);
HgMachineState hg_machine_state(HgMachine *m);
/* Runs fn(m, data) on the emulation thread (or at once when no thread runs); free_data is
 * called on data afterwards. The way frontends reach devices safely. */
typedef void (*HgMachineFn)(HgMachine *m, void *data);
void hg_machine_call(HgMachine *m, HgMachineFn fn, void *data, GDestroyNotify free_data);

/* The monitor (text commands for people and scripts: help lists them). Runs one command
 * line on the emulation thread and appends the reply to out; returns false when the
 * command asks the frontend to quit. Call it through hg_machine_call when a thread runs. */
bool hg_monitor_execute(HgMachine *m, const char *line, GString *out);

/* Input, one path for every frontend (GTK, SDL, VNC, the monitor); callable from any
 * thread (queued to the emulation thread). Keys are PC key codes: the set-1 make code of
 * the key, ORed with HG_KEYCODE_E0 for the keys set 1 prefixes with 0xE0 (arrows, right
 * Ctrl/Alt, the editing block, keypad Enter and /, the Windows keys), or HG_KEYCODE_PAUSE.
 * The keyboard converts them to whatever scan code set the guest selected. */
enum { HG_KEYCODE_E0 = 0x100, HG_KEYCODE_PAUSE = 0x200 };
enum { HG_BUTTON_LEFT = 1, HG_BUTTON_RIGHT = 2, HG_BUTTON_MIDDLE = 4 };
void hg_machine_send_key(HgMachine *m, uint16_t code, bool pressed);
/* Relative pointer motion (dy grows downwards, dz > 0 scrolls down) and the buttons held. */
void hg_machine_send_mouse(HgMachine *m, int dx, int dy, int dz, unsigned buttons);
/* Absolute pointer position in display pixels, for an absolute pointing device (the USB
 * tablet, once the guest's driver has configured it). Returns false when the guest has none
 * (no tablet, or a guest or firmware that does not drive it): the frontend then grabs the
 * pointer and sends relative motion. */
bool hg_machine_send_pointer(HgMachine *m, int x, int y, unsigned buttons);

/* USB devices (the UHCI's two root ports, and a hub behind the second for more). spec is
 * "tablet", "keyboard", "mouse" or "storage:FILE" (a raw disk image). Hot plug: the guest
 * sees the device arrive or leave. Callable from any thread (carried out on the emulation
 * thread; the call waits for it). attach returns the device's id (1 and up), or 0 with
 * an error. */
typedef struct HgUsbDeviceInfo {
    int id;
    char *kind;    /* "tablet", "keyboard", "mouse", "storage", "hub" */
    char *file;    /* storage: the image; else NULL */
    char *port;    /* "1", "2", or "2.3" (port 3 of the hub on root port 2) */
    char *product; /* the product string the guest reads */
    bool configured; /* the guest's driver has configured it */
} HgUsbDeviceInfo;
int hg_machine_usb_attach(HgMachine *m, const char *spec, GError **error);
bool hg_machine_usb_detach(HgMachine *m, int id, GError **error);
/* The attached devices (hubs included, with id 0), a GPtrArray of HgUsbDeviceInfo that
 * frees them. */
GPtrArray *hg_machine_usb_list(HgMachine *m);

/* The machine's display surface (engine/display.h): frontends read it from any thread. */
typedef struct HgDisplay HgDisplay;
HgDisplay *hg_machine_display(HgMachine *m);
/* Writes the display's current picture to path as a PNG (8-bit RGB), crash-safely
 * (temporary file in the same folder, fsync, rename). Callable from any thread. */
bool hg_machine_screendump(HgMachine *m, const char *path, GError **error);

/* Saved machine states (engine/machine-state.c): the whole machine (CPU, RAM, clock, every
 * device) to a file and back. Call on the emulation thread (through hg_machine_call, as the
 * monitor's savevm/loadvm do) or while no emulation thread runs. Loading refuses, with the
 * reason, a state of a differently built machine, a damaged or truncated file, or one from
 * an incompatible version, and then leaves the machine as it was. Disks are not in the
 * state: restore a state only onto the disks it was saved with. */
bool hg_machine_save_state(HgMachine *m, const char *path, GError **error);
bool hg_machine_load_state(HgMachine *m, const char *path, GError **error);
typedef struct HgStateInfo {
    int64_t saved_usec; /* wall-clock time of the save (g_get_real_time) */
    uint64_t icount;    /* guest instructions retired by then */
    int64_t guest_ns;   /* guest clock by then */
    uint32_t memory_mib;
    char *cdrom; /* the CD image in the drive then, or NULL */
    unsigned disk_snapshots; /* bit n: hard disk n has an internal snapshot of the state */
} HgStateInfo;
/* Named states live in the profile folder as states/NAME.hgstate with a screenshot
 * states/NAME.png beside; a name containing '/' or ending in .hgstate is a file path
 * instead. A named state also takes an internal snapshot NAME in each writable qcow2 hard
 * disk, restored and deleted with it, so the disks come back as they were. A machine
 * without a profile keeps a named state inside its first writable qcow2 disk instead, as
 * an internal snapshot with the machine state in it (QEMU's savevm layout: qemu-img
 * snapshot -l shows its size). Same threading rules as above. */
char *hg_machine_state_path(HgMachine *m, const char *name, bool for_writing, GError **error);
bool hg_machine_save_named_state(HgMachine *m, const char *name, GError **error);
bool hg_machine_load_named_state(HgMachine *m, const char *name, GError **error);
bool hg_machine_delete_named_state(HgMachine *m, const char *name, GError **error);
/* The names of the profile's states, sorted; free with g_strfreev. Any thread. */
char **hg_machine_list_states(HgMachine *m);
/* The states kept inside the disks (machines without a profile), sorted, and one's header;
 * emulation thread only (as above). */
char **hg_machine_image_states(HgMachine *m);
bool hg_machine_image_state_info(HgMachine *m, const char *name, HgStateInfo *info,
                                 GError **error);
char *hg_state_screenshot_path(const char *state_path);
/* Reads a state file's header without loading it. */
bool hg_state_file_info(const char *path, HgStateInfo *info, GError **error);
void hg_state_info_clear(HgStateInfo *info);

/* System resets since the machine was created (reset button, Ctrl+Alt+Del, triple fault,
 * the guest's own reset): lets a frontend notice a reboot. Any thread. */
unsigned hg_machine_reset_count(HgMachine *m);

/* Recording of what the machine's sound cards play (hangar-run --record, the monitor's
 * wavcapture): a 16-bit stereo 44.1 kHz WAV file written by a thread of its own. Start
 * replaces a recording in progress; fails when the machine has no sound hardware or the
 * file cannot be created. Any thread. */
bool hg_machine_wavcapture_start(HgMachine *m, const char *path, GError **error);
/* Returns false when nothing was being recorded. */
bool hg_machine_wavcapture_stop(HgMachine *m);

/* Guest instructions retired since the machine was created. */
uint64_t hg_machine_icount(const HgMachine *m);
/* Queues bytes for the guest's serial port (emulation thread), and the same from any
 * thread. The bytes wait in a host-side queue that the UART drains as the guest reads, so
 * none is lost however slowly the guest reads (engine/hw/uart16550.c); a reset of the
 * machine drops what still waits. */
void hg_machine_serial_input(HgMachine *m, int port, const uint8_t *data, size_t len);
void hg_machine_serial_input_async(HgMachine *m, int port, const uint8_t *data, size_t len);

G_END_DECLS
