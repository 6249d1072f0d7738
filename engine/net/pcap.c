/* Network dumps in the classic libpcap file format (the "pcap-savefile" man page and
 * draft-ietf-opsawg-pcap): a 24-byte global header (magic 0xa1b2c3d4 in the writer's byte
 * order, version 2.4, snaplen, LINKTYPE_ETHERNET) and a 16-byte record header (seconds,
 * microseconds, captured and original length) before each frame. Written only by the net
 * thread; stdio buffers the records and the net thread flushes every second, so a process
 * that ends normally, or is killed, leaves a file tshark reads up to the last flush. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hangar.h"
#include "net-internal.h"

enum {
    PCAP_MAGIC = 0xa1b2c3d4,
    PCAP_SNAPLEN = 65535,
    LINKTYPE_ETHERNET = 1,
};

struct NetPcap {
    FILE *f;
    bool dirty;
    bool failed; /* a write failed once: said so, stop trying */
};

NetPcap *net_pcap_open(const char *path, GError **error)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot create the network dump %s: %s", path,
                    g_strerror(e));
        return NULL;
    }
    struct {
        uint32_t magic;
        uint16_t major, minor;
        int32_t thiszone;
        uint32_t sigfigs, snaplen, linktype;
    } hdr = {PCAP_MAGIC, 2, 4, 0, 0, PCAP_SNAPLEN, LINKTYPE_ETHERNET};
    G_STATIC_ASSERT(sizeof(hdr) == 24);
    if (fwrite(&hdr, sizeof(hdr), 1, f) != 1 || fflush(f) != 0) {
        int e = errno;
        fclose(f);
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot write the network dump %s: %s", path,
                    g_strerror(e));
        return NULL;
    }
    NetPcap *p = g_new0(NetPcap, 1);
    p->f = f;
    return p;
}

void net_pcap_write(NetPcap *p, const uint8_t *frame, size_t len)
{
    if (p->failed)
        return;
    int64_t now = g_get_real_time();
    uint32_t incl = len > PCAP_SNAPLEN ? PCAP_SNAPLEN : (uint32_t)len;
    uint32_t rec[4] = {(uint32_t)(now / G_USEC_PER_SEC), (uint32_t)(now % G_USEC_PER_SEC), incl,
                       (uint32_t)len};
    if (fwrite(rec, sizeof(rec), 1, p->f) != 1 || fwrite(frame, 1, incl, p->f) != incl) {
        g_message("net: writing the network dump failed (%s); no more frames are recorded",
                  g_strerror(errno));
        p->failed = true;
        return;
    }
    p->dirty = true;
}

void net_pcap_flush(NetPcap *p)
{
    if (p->dirty && !p->failed)
        fflush(p->f);
    p->dirty = false;
}

void net_pcap_close(NetPcap *p)
{
    if (!p)
        return;
    if (fclose(p->f) != 0 && !p->failed)
        g_message("net: closing the network dump failed: %s", g_strerror(errno));
    g_free(p);
}
