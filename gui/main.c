/* hangar: the GTK 3 manager's entry point (translations, then the application). */
#include <glib/gi18n.h>
#include <locale.h>

#include "hangar-application.h"

int main(int argc, char **argv)
{
    /* The machine displays are drawn with cairo: GTK's GL support is not needed, and on
     * X11 GTK 3 otherwise loads the GL driver at start only to pick visuals (with Mesa's
     * llvmpipe that is ~55 MiB more resident memory and a slower start). */
    g_setenv("GDK_GL", "disable", FALSE);
    setlocale(LC_ALL, "");
    /* make run points HANGAR_LOCALEDIR at the build's translations (build/po). */
    const char *localedir = g_getenv("HANGAR_LOCALEDIR");
    bindtextdomain(GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    g_set_application_name("Hangar");

    g_autoptr(HangarApplication) app = hangar_application_new(G_APPLICATION_DEFAULT_FLAGS);
    return g_application_run(G_APPLICATION(app), argc, argv);
}
