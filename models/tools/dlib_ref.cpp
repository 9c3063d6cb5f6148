// dlib_ref: the dlib reference side of facegate's model build.
//
// Why this exists: the shipped face-embedding ONNX is a conversion of dlib's
// dlib_face_recognition_resnet_model_v1. The only trustworthy oracle for "did
// the conversion keep the model's behaviour" is dlib itself, so this tool
// (a) exports the trained weights to dlib's XML (input to xml_to_onnx.py),
// (b) runs dlib's own detect -> 5-point -> chip -> descriptor pipeline on
//     images and writes the chips + descriptors as parity fixtures, and
// (c) runs dlib's HOG + 5-point predictor over a directory of images so
//     MTCNN landmarks can be related to dlib's chip geometry (research only).
//
// Build: g++ -O2 -std=c++14 dlib_ref.cpp -o dlib_ref $(pkg-config --cflags --libs dlib-1)
//
// Modes:
//   dlib_ref xml   <resnet.dat> <out.xml>
//   dlib_ref ref   <sp5.dat> <resnet.dat> <out_dir> <out.json> <image>...
//   dlib_ref chips <resnet.dat> <chip.png>...          (descriptors of given 150x150 chips)
//   dlib_ref lfw   <sp5.dat> <list.txt> <out.tsv>        (one image path per line)

#include <dlib/dnn.h>
#include <dlib/revision.h>
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace dlib;

// Network type exactly as declared in dlib's dnn_face_recognition_ex.cpp
// (inference variant: batch norm replaced by affine).
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<
    alevel0<alevel1<alevel2<alevel3<alevel4<
    max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

static std::string basename_noext(const std::string& p) {
    std::string b = p.substr(p.find_last_of('/') == std::string::npos ? 0 : p.find_last_of('/') + 1);
    auto dot = b.find_last_of('.');
    return dot == std::string::npos ? b : b.substr(0, dot);
}

static std::string fmt(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}
static std::string fmtf(float v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

static int mode_xml(int argc, char** argv) {
    if (argc != 4) { std::cerr << "usage: dlib_ref xml <resnet.dat> <out.xml>\n"; return 2; }
    anet_type net;
    deserialize(argv[2]) >> net;
    std::ofstream out(argv[3]);
    net_to_xml(net, out);
    out.close();
    if (!out) { std::cerr << "write failed: " << argv[3] << "\n"; return 1; }
    std::cerr << net << "\n";
    return 0;
}

static std::string json_rect(const rectangle& r) {
    std::ostringstream o;
    o << "{\"left\":" << r.left() << ",\"top\":" << r.top() << ",\"right\":" << r.right()
      << ",\"bottom\":" << r.bottom() << "}";
    return o.str();
}
static std::string json_drect(const drectangle& r) {
    std::ostringstream o;
    o << "{\"left\":" << fmt(r.left()) << ",\"top\":" << fmt(r.top()) << ",\"right\":" << fmt(r.right())
      << ",\"bottom\":" << fmt(r.bottom()) << "}";
    return o.str();
}

static int mode_ref(int argc, char** argv) {
    if (argc < 7) {
        std::cerr << "usage: dlib_ref ref <sp5.dat> <resnet.dat> <out_dir> <out.json> <image>...\n";
        return 2;
    }
    frontal_face_detector detector = get_frontal_face_detector();
    shape_predictor sp;
    deserialize(argv[2]) >> sp;
    anet_type net;
    deserialize(argv[3]) >> net;
    const std::string out_dir = argv[4];
    std::ostringstream js;
    js << "{\n\"generator\": \"models/tools/dlib_ref.cpp (dlib " << DLIB_MAJOR_VERSION << "."
       << DLIB_MINOR_VERSION << "." << DLIB_PATCH_VERSION
       << "): get_frontal_face_detector (upsample 0) -> shape_predictor_5_face_landmarks -> "
          "get_face_chip_details(shape,150,0.25) -> extract_image_chip (bilinear) -> "
          "dlib_face_recognition_resnet_model_v1\",\n\"images\": [\n";
    for (int i = 6; i < argc; ++i) {
        const std::string path = argv[i];
        const std::string name = basename_noext(path);
        matrix<rgb_pixel> img;
        load_image(img, path);
        std::vector<rectangle> dets = detector(img);
        js << (i > 6 ? ",\n" : "") << "{\"image\": \"" << name << "\", \"file\": \""
           << path.substr(path.find_last_of('/') + 1) << "\", \"width\": " << img.nc()
           << ", \"height\": " << img.nr() << ", \"faces\": [";
        for (size_t f = 0; f < dets.size(); ++f) {
            full_object_detection shape = sp(img, dets[f]);
            chip_details cd = get_face_chip_details(shape, 150, 0.25);
            matrix<rgb_pixel> chip;
            extract_image_chip(img, cd, chip);
            std::string chip_name = name + (f == 0 ? std::string("") : "_" + std::to_string(f)) + "_chip.png";
            save_png(chip, out_dir + "/" + chip_name);
            // Reload the lossless chip so the descriptor is exactly that of the committed file.
            matrix<rgb_pixel> chip2;
            load_image(chip2, out_dir + "/" + chip_name);
            if (chip2 != chip) { std::cerr << "PNG round trip changed chip " << chip_name << "\n"; return 1; }
            matrix<float, 0, 1> d = net(chip2);
            point_transform_affine from_chip = get_mapping_to_chip(cd);
            from_chip = inv(from_chip);
            js << (f ? ",\n  " : "\n  ") << "{\"detection\": " << json_rect(dets[f]) << ", \"landmarks5\": [";
            for (unsigned long p = 0; p < shape.num_parts(); ++p)
                js << (p ? "," : "") << "[" << shape.part(p).x() << "," << shape.part(p).y() << "]";
            js << "], \"chip\": \"" << chip_name << "\", \"chip_details\": {\"rect\": " << json_drect(cd.rect)
               << ", \"angle\": " << fmt(cd.angle) << ", \"rows\": " << cd.rows << ", \"cols\": " << cd.cols
               << "}, \"chip_to_image_affine\": [[" << fmt(from_chip.get_m()(0, 0)) << ","
               << fmt(from_chip.get_m()(0, 1)) << "," << fmt(from_chip.get_b()(0)) << "],["
               << fmt(from_chip.get_m()(1, 0)) << "," << fmt(from_chip.get_m()(1, 1)) << ","
               << fmt(from_chip.get_b()(1)) << "]], \"descriptor\": [";
            for (long k = 0; k < d.size(); ++k) js << (k ? "," : "") << fmtf(d(k));
            js << "]}";
        }
        js << "]}";
        std::cerr << name << ": " << dets.size() << " face(s)\n";
    }
    js << "\n]\n}\n";
    std::ofstream out(argv[5]);
    out << js.str();
    out.close();
    return out ? 0 : 1;
}

static int mode_chips(int argc, char** argv) {
    if (argc < 4) { std::cerr << "usage: dlib_ref chips <resnet.dat> <chip.png>...\n"; return 2; }
    anet_type net;
    deserialize(argv[2]) >> net;
    for (int i = 3; i < argc; ++i) {
        matrix<rgb_pixel> chip;
        load_image(chip, argv[i]);
        if (chip.nr() != 150 || chip.nc() != 150) { std::cerr << argv[i] << ": not 150x150\n"; return 1; }
        matrix<float, 0, 1> d = net(chip);
        std::cout << argv[i];
        for (long k = 0; k < d.size(); ++k) std::cout << "\t" << fmtf(d(k));
        std::cout << "\n";
    }
    return 0;
}

static int mode_lfw(int argc, char** argv) {
    if (argc != 5) { std::cerr << "usage: dlib_ref lfw <sp5.dat> <list.txt> <out.tsv>\n"; return 2; }
    frontal_face_detector detector = get_frontal_face_detector();
    shape_predictor sp;
    deserialize(argv[2]) >> sp;
    std::ifstream list(argv[3]);
    std::ofstream out(argv[4]);
    out << "path\twidth\theight\tface_idx\tn_faces\tdet_left\tdet_top\tdet_right\tdet_bottom\tdet_score"
           "\tp0x\tp0y\tp1x\tp1y\tp2x\tp2y\tp3x\tp3y\tp4x\tp4y"
           "\tchip_left\tchip_top\tchip_right\tchip_bottom\tchip_angle\tdetect_ms\tlandmark_ms\n";
    std::string path;
    size_t n = 0;
    while (std::getline(list, path)) {
        if (path.empty()) continue;
        matrix<rgb_pixel> img;
        try { load_image(img, path); } catch (std::exception& e) {
            std::cerr << path << ": " << e.what() << "\n";
            continue;
        }
        auto t0 = std::chrono::steady_clock::now();
        std::vector<rect_detection> dets;
        detector(img, dets, 0.0);
        auto t1 = std::chrono::steady_clock::now();
        double det_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
        if (dets.empty()) {
            out << path << "\t" << img.nc() << "\t" << img.nr() << "\t-1\t0";
            for (int k = 0; k < 20; ++k) out << "\t";
            out << "\t" << fmt(det_ms) << "\t\n";
        }
        for (size_t f = 0; f < dets.size(); ++f) {
            auto t2 = std::chrono::steady_clock::now();
            full_object_detection shape = sp(img, dets[f].rect);
            chip_details cd = get_face_chip_details(shape, 150, 0.25);
            auto t3 = std::chrono::steady_clock::now();
            double lm_ms = std::chrono::duration<double, std::milli>(t3 - t2).count();
            out << path << "\t" << img.nc() << "\t" << img.nr() << "\t" << f << "\t" << dets.size() << "\t"
                << dets[f].rect.left() << "\t" << dets[f].rect.top() << "\t" << dets[f].rect.right() << "\t"
                << dets[f].rect.bottom() << "\t" << fmt(dets[f].detection_confidence);
            for (unsigned long p = 0; p < shape.num_parts(); ++p)
                out << "\t" << shape.part(p).x() << "\t" << shape.part(p).y();
            out << "\t" << fmt(cd.rect.left()) << "\t" << fmt(cd.rect.top()) << "\t" << fmt(cd.rect.right())
                << "\t" << fmt(cd.rect.bottom()) << "\t" << fmt(cd.angle) << "\t" << fmt(det_ms) << "\t"
                << fmt(lm_ms) << "\n";
        }
        if (++n % 500 == 0) { std::cerr << n << " images\n"; out.flush(); }
    }
    out.close();
    return out ? 0 : 1;
}

int main(int argc, char** argv) try {
    if (argc < 2) { std::cerr << "usage: dlib_ref xml|ref|chips|lfw ...\n"; return 2; }
    const std::string mode = argv[1];
    if (mode == "xml") return mode_xml(argc, argv);
    if (mode == "ref") return mode_ref(argc, argv);
    if (mode == "chips") return mode_chips(argc, argv);
    if (mode == "lfw") return mode_lfw(argc, argv);
    std::cerr << "unknown mode " << mode << "\n";
    return 2;
} catch (std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
}
