; Inno Setup recipe of the Windows installer, compiled by packaging/build.py on Windows:
;   iscc /DAppVersion=0.1.0 /DBundle=dist\pyinstaller\natakanu-peer /DIcons=build\icons
;        /DOutput=dist packaging\windows\natakanu-peer.iss
;
; Installs for the current user without administrator rights by default (a person on a
; shared community computer often has none); with them, it can install for everyone and
; then opens the firewall to the application, so that the peers of the circle can reach it.

#ifndef AppVersion
  #error Pass /DAppVersion=... (packaging/build.py does)
#endif

[Setup]
AppId={{6B1F3C2E-8E0A-4F4B-9C1D-5A7E2D9B4C11}
AppName=Natakanu Peer
AppVersion={#AppVersion}
AppVerName=Natakanu Peer {#AppVersion}
AppPublisher=Natakanu Peer contributors
DefaultDirName={autopf}\Natakanu Peer
DefaultGroupName=Natakanu Peer
DisableProgramGroupPage=yes
; Per user unless the person chooses (and may) install for all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir={#Output}
OutputBaseFilename=natakanu-peer-{#AppVersion}-setup
SetupIconFile={#Icons}\natakanu-peer.ico
UninstallDisplayIcon={app}\natakanu-peer.exe
UninstallDisplayName=Natakanu Peer
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
LicenseFile=..\..\LICENSE

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "french"; MessagesFile: "compiler:Languages\French.isl"

[CustomMessages]
english.FirewallRule=Letting the people of your circle reach Natakanu Peer...
french.FirewallRule=Ouverture du pare-feu aux personnes de votre cercle...

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Natakanu Peer"; Filename: "{app}\natakanu-peer.exe"
Name: "{autodesktop}\Natakanu Peer"; Filename: "{app}\natakanu-peer.exe"; Tasks: desktopicon

[Run]
; Only with administrator rights: an inbound rule for the program itself (any port it
; listens on). Without it Windows Defender Firewall asks the person at the first
; connection, or silently blocks the peers. Every profile: Windows files a new Wi-Fi as
; "public" unless told otherwise, and a community's shared Wi-Fi is exactly that case;
; the application itself only lets members of the circle in (mutual authentication).
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""Natakanu Peer"" dir=in action=allow program=""{app}\natakanu-peer.exe"" enable=yes profile=any"; StatusMsg: "{cm:FirewallRule}"; Flags: runhidden; Check: IsAdminInstallMode
Filename: "{app}\natakanu-peer.exe"; Description: "{cm:LaunchProgram,Natakanu Peer}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall delete rule name=""Natakanu Peer"" program=""{app}\natakanu-peer.exe"""; Flags: runhidden; Check: IsAdminInstallMode; RunOnceId: "RemoveFirewallRule"
